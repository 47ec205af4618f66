// SPDX-License-Identifier: MIT
// rfile and wfile: Reader and Writer.
#include "sockhost/sdk/buffered_io.hpp"

#include <algorithm>
#include <cstring>

namespace sockhost::sdk {

// --- Reader ----------------------------------------------------------------

namespace {
/// One read buffer per thread kept from the last Reader::release() or
/// destroyed Reader: a parked connection holds no buffer, and the next one
/// resumed (or accepted) on this thread takes this one instead of
/// allocating and zero-filling 16 KiB again (a connection per request).
thread_local std::string tls_spare_buffer;

/// The same for Writer: the capacity of the last emptied write buffer on this
/// thread, so a response does not allocate (and grow) its buffer again.
thread_local std::string tls_spare_write_buffer;
constexpr std::size_t kSpareWriteMax = 64 * 1024;   // a bigger one is not kept
}  // namespace

Reader::Reader(ByteStream& stream, std::size_t chunk) : stream_(stream), chunk_(chunk ? chunk : 1) {}

Reader::~Reader() {
    // A buffer grown past 64 KiB (a big pipelined burst) is not kept.
    if (buf_.size() > tls_spare_buffer.size() && buf_.size() <= 64 * 1024) tls_spare_buffer.swap(buf_);
}

char* Reader::reserve_chunk() {
    if (buf_.empty() && !tls_spare_buffer.empty()) buf_.swap(tls_spare_buffer);
    if (pos_ == end_) {
        pos_ = end_ = 0;
    } else if (pos_ > 64 * 1024 && pos_ * 2 > end_) {
        // Compact so a long-lived connection's buffer stays small.
        std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
        end_ -= pos_;
        pos_ = 0;
    }
    // Grows (zero-filling only the new bytes) when needed; never per read.
    if (buf_.size() < end_ + chunk_) buf_.resize(end_ + chunk_);
    return buf_.data() + end_;
}

std::size_t Reader::fill() {
    if (eof_) return 0;
    char* room = reserve_chunk();
    std::size_t n = stream_.read_some(room, chunk_);
    end_ += n;
    if (n == 0) eof_ = true;
    return n;
}

void Reader::consume(std::size_t n) {
    pos_ += std::min(n, end_ - pos_);
    if (pos_ == end_) pos_ = end_ = 0;
}

std::optional<std::size_t> Reader::fill_nowait() {
    if (eof_) return 0;
    char* room = reserve_chunk();
    std::optional<std::size_t> n = stream_.read_nowait(room, chunk_);
    if (!n) return std::nullopt;
    end_ += *n;
    if (*n == 0) eof_ = true;
    return n;
}

void Reader::release() {
    if (pos_ == end_) {
        if (tls_spare_buffer.size() < buf_.size()) tls_spare_buffer.swap(buf_);
        std::string().swap(buf_);
        pos_ = end_ = 0;
        return;
    }
    // Keep only the unread bytes, at the front, in a right-sized buffer.
    std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
    buf_.resize(end_);
    buf_.shrink_to_fit();
}

std::string Reader::read(std::size_t n) {
    std::string out;
    while (out.size() < n) {
        if (buffered().empty() && fill() == 0) break;
        std::string_view b = buffered().substr(0, n - out.size());
        out.append(b);
        consume(b.size());
    }
    return out;
}

std::string Reader::read_all() {
    std::string out;
    do {
        out.append(buffered());
        consume(buffered().size());
    } while (fill() > 0);
    return out;
}

std::string Reader::read1(std::size_t n) {
    if (buffered().empty()) fill();
    std::string out(buffered().substr(0, n));
    consume(out.size());
    return out;
}

std::string Reader::readline(std::size_t limit) {
    std::string out;
    std::size_t scanned = 0;
    for (;;) {
        std::string_view b = buffered();
        std::size_t want = limit - out.size();
        std::size_t nl = b.substr(0, want).find('\n', scanned);
        if (nl != std::string_view::npos) {
            out.append(b.substr(0, nl + 1));
            consume(nl + 1);
            return out;
        }
        if (b.size() >= want) {
            out.append(b.substr(0, want));
            consume(want);
            return out;
        }
        scanned = b.size();
        if (fill() == 0) {
            out.append(buffered());
            consume(buffered().size());
            return out;
        }
    }
}

// --- Writer ----------------------------------------------------------------

namespace {
/// Empties the buffer however the send ends: bytes of a failed send are never
/// sent twice, and a successful one keeps the buffer's capacity for the next.
struct ClearOnExit {
    std::string& buffer;
    ~ClearOnExit() { buffer.clear(); }
};
}  // namespace

Writer::Writer(ByteStream& stream, std::size_t buffer_size)
    : stream_(stream), buffer_size_(buffer_size) {}
Writer::~Writer() { release(); }

void Writer::write(std::string_view data) {
    written_ += data.size();
    if (buf_.size() + data.size() <= buffer_size_) {
        if (buf_.capacity() < buf_.size() + data.size() && buf_.empty() &&
            tls_spare_write_buffer.capacity() > buf_.capacity())
            buf_.swap(tls_spare_write_buffer);   // empty, with room
        buf_.append(data);
        return;
    }
    // Too big to buffer: send what is buffered and the new data in one call.
    ClearOnExit clear{buf_};
    stream_.write(buf_, data);
}

void Writer::flush() {
    if (buf_.empty()) return;
    ClearOnExit clear{buf_};
    stream_.write(buf_);
}

void Writer::release() {
    if (!buf_.empty()) return;
    if (buf_.capacity() > tls_spare_write_buffer.capacity() && buf_.capacity() <= kSpareWriteMax)
        tls_spare_write_buffer.swap(buf_);
    std::string().swap(buf_);
}

void Writer::send_buffered_more() {
    ClearOnExit clear{buf_};
    stream_.write_more(buf_);
}

void Writer::flush_more() {
    if (!buf_.empty()) send_buffered_more();
}

void Writer::send_file(int in_fd, off_t offset, std::size_t count) {
    // The buffered head goes out corked: it and the file's first bytes
    // share a segment.
    if (!buf_.empty()) send_buffered_more();
    written_ += count;
    stream_.send_file(in_fd, offset, count);
}

}  // namespace sockhost::sdk
