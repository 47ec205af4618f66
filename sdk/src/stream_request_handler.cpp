// SPDX-License-Identifier: MIT
// Byte streams, rfile/wfile and StreamRequestHandler.
#include "sockhost/sdk/stream_request_handler.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <deque>
#include <system_error>

#include "sockhost/sdk/errors.hpp"

namespace sockhost::sdk {

namespace {
[[noreturn]] void throw_errno(const char* what) {
    int e = errno;
    if (e == EAGAIN || e == EWOULDBLOCK) throw TimeoutError(std::string(what) + " timed out");
    throw std::system_error(e, std::generic_category(), what);
}
}  // namespace

// --- ByteStream defaults ---------------------------------------------------

ByteStream::~ByteStream() = default;

void ByteStream::write_all(std::string_view first, std::string_view second) {
    write_all(first);
    write_all(second);
}

void ByteStream::send_file(int in_fd, off_t offset, std::size_t count) {
    // Portable fallback: pread into a buffer and write it.
    std::string buf(std::min<std::size_t>(count, 64 * 1024), '\0');
    while (count > 0) {
        ssize_t n = ::pread(in_fd, buf.data(), std::min(count, buf.size()), offset);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno("pread");
        if (n == 0) throw std::system_error(std::make_error_code(std::errc::io_error),
                                            "file shrank while being sent");
        write_all(std::string_view(buf.data(), static_cast<std::size_t>(n)));
        offset += n;
        count -= static_cast<std::size_t>(n);
    }
}

// --- SocketStream ----------------------------------------------------------
// Timeouts use SO_RCVTIMEO/SO_SNDTIMEO: a blocking call returns EAGAIN when
// the wait runs out, which costs no extra poll() per read.

SocketStream::SocketStream(int fd, std::chrono::milliseconds timeout) : fd_(fd), timeout_(timeout) {}

SocketStream::~SocketStream() = default;

void SocketStream::set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }

void SocketStream::apply_timeout(int option, std::chrono::milliseconds& applied) {
    if (applied == timeout_) return;
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout_.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout_.count() % 1000) * 1000);
    if (::setsockopt(fd_, SOL_SOCKET, option, &tv, sizeof tv) == 0) applied = timeout_;
}

std::size_t SocketStream::read_some(char* buffer, std::size_t size) {
    apply_timeout(SO_RCVTIMEO, rcv_applied_);
    for (;;) {
        ssize_t n = ::recv(fd_, buffer, size, 0);
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno == EINTR) continue;
        if (errno == ECONNRESET) return 0;   // the peer is gone: treat as end of stream
        throw_errno("recv");
    }
}

// Sends start non-blocking: a response that fits the socket buffer (most do)
// goes out without the send timeout ever being applied; only a send that
// would wait applies it (one setsockopt) and waits, bounded by it.
bool SocketStream::must_wait_to_send(int& flags) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
    if (!(flags & MSG_DONTWAIT)) return false;   // a blocking send timed out
    flags &= ~MSG_DONTWAIT;
    apply_timeout(SO_SNDTIMEO, snd_applied_);
    return true;
}

void SocketStream::write_all(std::string_view data) {
    int flags = MSG_NOSIGNAL | MSG_DONTWAIT;
    while (!data.empty()) {
        ssize_t n = ::send(fd_, data.data(), data.size(), flags);
        if (n < 0 && (errno == EINTR || must_wait_to_send(flags))) continue;
        if (n < 0) throw_errno("send");
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

void SocketStream::write_more(std::string_view data) {
    int flags = MSG_NOSIGNAL | MSG_MORE | MSG_DONTWAIT;
    while (!data.empty()) {
        ssize_t n = ::send(fd_, data.data(), data.size(), flags);
        if (n < 0 && (errno == EINTR || must_wait_to_send(flags))) continue;
        if (n < 0) throw_errno("send");
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

void SocketStream::write_all(std::string_view first, std::string_view second) {
    int flags = MSG_NOSIGNAL | MSG_DONTWAIT;
    while (!first.empty()) {
        iovec iov[2] = {{const_cast<char*>(first.data()), first.size()},
                        {const_cast<char*>(second.data()), second.size()}};
        msghdr msg{};
        msg.msg_iov = iov;
        msg.msg_iovlen = second.empty() ? 1 : 2;
        ssize_t n = ::sendmsg(fd_, &msg, flags);
        if (n < 0 && (errno == EINTR || must_wait_to_send(flags))) continue;
        if (n < 0) throw_errno("sendmsg");
        auto sent = static_cast<std::size_t>(n);
        if (sent >= first.size()) {
            second.remove_prefix(sent - first.size());
            first = {};
        } else {
            first.remove_prefix(sent);
        }
    }
    write_all(second);
}

void SocketStream::send_file(int in_fd, off_t offset, std::size_t count) {
    apply_timeout(SO_SNDTIMEO, snd_applied_);
    while (count > 0) {
        ssize_t n = ::sendfile(fd_, in_fd, &offset, std::min<std::size_t>(count, 1u << 30));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EINVAL || errno == ENOSYS)) {
            ByteStream::send_file(in_fd, offset, count);   // not sendfile-able: copy
            return;
        }
        if (n < 0) throw_errno("sendfile");
        if (n == 0)
            throw std::system_error(std::make_error_code(std::errc::io_error),
                                    "file shrank while being sent");
        count -= static_cast<std::size_t>(n);
    }
}

void SocketStream::shutdown_write() { ::shutdown(fd_, SHUT_WR); }

// --- DeferringSocketStream -------------------------------------------------

namespace {
/// A queued file range costs this much of max_queued() (it holds a descriptor).
constexpr std::size_t kFilePartCost = 4096;
}  // namespace

struct DeferringSocketStream::Queue {
    struct Part {
        std::string bytes;     // bytes to send (empty for a file range)
        std::size_t pos = 0;   // ... already sent
        int file = -1;         // a duplicate of the file's descriptor, owned
        off_t offset = 0;
        std::size_t count = 0;
    };
    std::deque<Part> parts;
    std::size_t cost = 0;   // bytes left + kFilePartCost per file range

    ~Queue() {
        for (Part& p : parts)
            if (p.file >= 0) ::close(p.file);
    }
    bool empty() const { return parts.empty(); }
    void add_bytes(std::string_view a, std::string_view b) {
        Part p;
        p.bytes.reserve(a.size() + b.size());
        p.bytes.append(a).append(b);
        cost += p.bytes.size();
        parts.push_back(std::move(p));
    }
    void add_file(int in_fd, off_t offset, std::size_t count) {
        Part p;
        p.file = ::fcntl(in_fd, F_DUPFD_CLOEXEC, 0);   // the caller closes its own
        if (p.file < 0) throw std::system_error(errno, std::generic_category(), "dup");
        p.offset = offset;
        p.count = count;
        cost += kFilePartCost;
        parts.push_back(std::move(p));
    }
    void pop() {
        Part& p = parts.front();
        if (p.file >= 0) {
            ::close(p.file);
            cost -= kFilePartCost;
        } else {
            cost -= p.bytes.size() - p.pos;
        }
        parts.pop_front();
    }
};

// The queue exists only while something waits in it: a std::deque costs
// ~600 bytes before it holds anything, and most connections never queue.
DeferringSocketStream::DeferringSocketStream(int fd, std::chrono::milliseconds timeout)
    : fd_(fd), timeout_(timeout) {}

DeferringSocketStream::~DeferringSocketStream() = default;

bool DeferringSocketStream::pending() const { return queue_ != nullptr; }

void DeferringSocketStream::wait_for(short events, const char* what) {
    pollfd p{fd_, events, 0};
    const int ms = timeout_.count() > 0 ? static_cast<int>(std::min<std::int64_t>(timeout_.count(), INT32_MAX)) : -1;
    for (;;) {
        int n = ::poll(&p, 1, ms);
        if (n > 0) return;   // ready, or an error the next call reports
        if (n == 0) throw TimeoutError(std::string(what) + " timed out");
        if (errno != EINTR) throw_errno("poll");
    }
}

bool DeferringSocketStream::flush_pending() {
    if (!queue_) return true;
    Queue& q = *queue_;
    while (!q.empty()) {
        Queue::Part& p = q.parts.front();
        ssize_t n;
        if (p.file >= 0) {
            n = ::sendfile(fd_, p.file, &p.offset, std::min<std::size_t>(p.count, 1u << 30));
            if (n == 0) throw std::system_error(std::make_error_code(std::errc::io_error),
                                                "file shrank while being sent");
        } else {
            n = ::send(fd_, p.bytes.data() + p.pos, p.bytes.size() - p.pos, MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
            throw_errno(p.file >= 0 ? "sendfile" : "send");
        }
        const auto sent = static_cast<std::size_t>(n);
        if (p.file >= 0) {
            p.count -= sent;   // sendfile advanced p.offset
            if (p.count == 0) q.pop();
        } else {
            p.pos += sent;
            q.cost -= sent;
            if (p.pos == p.bytes.size()) q.pop();
        }
    }
    queue_.reset();
    return true;
}

void DeferringSocketStream::drain_queue() {
    while (!flush_pending()) wait_for(POLLOUT, "send");
}

void DeferringSocketStream::send_or_queue(std::string_view first, std::string_view second, int flags) {
    if (queue_) {
        // Behind queued output: it joins the queue, or (too much queued, or
        // no deferral) the queue goes first, waiting.
        if (deferral_ && queue_->cost + first.size() + second.size() <= max_queued()) {
            queue_->add_bytes(first, second);
            return;
        }
        drain_queue();
    }
    while (!first.empty() || !second.empty()) {
        iovec iov[2];
        std::size_t parts = 0;
        if (!first.empty()) iov[parts++] = {const_cast<char*>(first.data()), first.size()};
        if (!second.empty()) iov[parts++] = {const_cast<char*>(second.data()), second.size()};
        msghdr msg{};
        msg.msg_iov = iov;
        msg.msg_iovlen = parts;
        // One buffer (the usual case): send(), which spares the kernel
        // copying in a msghdr and an iovec array.
        ssize_t n = parts == 1 ? ::send(fd_, iov[0].iov_base, iov[0].iov_len, flags | MSG_NOSIGNAL | MSG_DONTWAIT)
                               : ::sendmsg(fd_, &msg, flags | MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) throw_errno("send");
            if (deferral_ && first.size() + second.size() <= max_queued()) {
                queue_ = std::make_unique<Queue>();
                queue_->add_bytes(first, second);
                return;
            }
            wait_for(POLLOUT, "send");
            continue;
        }
        auto sent = static_cast<std::size_t>(n);
        const std::size_t from_first = std::min(sent, first.size());
        first.remove_prefix(from_first);
        second.remove_prefix(sent - from_first);
    }
}

void DeferringSocketStream::write_all(std::string_view data) { send_or_queue(data, {}, 0); }

void DeferringSocketStream::write_all(std::string_view first, std::string_view second) {
    send_or_queue(first, second, 0);
}

void DeferringSocketStream::write_more(std::string_view data) { send_or_queue(data, {}, MSG_MORE); }

void DeferringSocketStream::send_file(int in_fd, off_t offset, std::size_t count) {
    if (queue_) {
        if (deferral_ && queue_->cost + kFilePartCost <= max_queued()) {
            queue_->add_file(in_fd, offset, count);
            return;
        }
        drain_queue();
    }
    while (count > 0) {
        ssize_t n = ::sendfile(fd_, in_fd, &offset, std::min<std::size_t>(count, 1u << 30));
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EINVAL || errno == ENOSYS) {
                ByteStream::send_file(in_fd, offset, count);   // not sendfile-able: copy
                return;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) throw_errno("sendfile");
            if (deferral_) {
                auto queue = std::make_unique<Queue>();
                queue->add_file(in_fd, offset, count);   // may throw (no descriptor left)
                queue_ = std::move(queue);
                return;
            }
            wait_for(POLLOUT, "sendfile");
            continue;
        }
        if (n == 0)
            throw std::system_error(std::make_error_code(std::errc::io_error), "file shrank while being sent");
        count -= static_cast<std::size_t>(n);
    }
}

std::size_t DeferringSocketStream::read_some(char* buffer, std::size_t size) {
    for (;;) {
        ssize_t n = ::recv(fd_, buffer, size, MSG_DONTWAIT);
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno == EINTR) continue;
        if (errno == ECONNRESET) return 0;   // the peer is gone: treat as end of stream
        if (errno != EAGAIN && errno != EWOULDBLOCK) throw_errno("recv");
        // About to wait for the peer: what it may be waiting for goes first.
        drain_queue();
        wait_for(POLLIN, "recv");
    }
}

void DeferringSocketStream::shutdown_write() {
    drain_queue();
    ::shutdown(fd_, SHUT_WR);
}

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
    more_ = n == chunk_;
    return n;
}

void Reader::consume(std::size_t n) {
    pos_ += std::min(n, end_ - pos_);
    if (pos_ == end_) pos_ = end_ = 0;
}

std::optional<std::size_t> Reader::fill_nowait() {
    if (eof_) return 0;
    const int fd = stream_.fd();
    if (fd < 0) return fill();   // no socket to ask: the test kit's streams never wait
    char* room = reserve_chunk();
    for (;;) {
        ssize_t n = ::recv(fd, room, chunk_, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        more_ = false;
        if (n < 0) {
            int e = errno;
            if (e == EAGAIN || e == EWOULDBLOCK) return std::nullopt;
            if (e == ECONNRESET) n = 0;   // the peer is gone: end of stream, as read_some
            else throw std::system_error(e, std::generic_category(), "recv");
        }
        end_ += static_cast<std::size_t>(n);
        if (n == 0) eof_ = true;
        more_ = static_cast<std::size_t>(n) == chunk_;
        return static_cast<std::size_t>(n);
    }
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
    stream_.write_all(buf_, data);
}

void Writer::flush() {
    if (buf_.empty()) return;
    ClearOnExit clear{buf_};
    stream_.write_all(buf_);
}

void Writer::release() {
    if (!buf_.empty()) return;
    if (buf_.capacity() > tls_spare_write_buffer.capacity() && buf_.capacity() <= kSpareWriteMax)
        tls_spare_write_buffer.swap(buf_);
    std::string().swap(buf_);
}

void Writer::send_buffered_more() {
    ClearOnExit clear{buf_};
    if (auto* socket = dynamic_cast<SocketStream*>(&stream_)) socket->write_more(buf_);
    else if (auto* deferring = dynamic_cast<DeferringSocketStream*>(&stream_)) deferring->write_more(buf_);
    else stream_.write_all(buf_);
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

// --- StreamRequestHandler --------------------------------------------------

StreamRequestHandler::StreamRequestHandler() = default;
StreamRequestHandler::~StreamRequestHandler() = default;

void StreamRequestHandler::use_stream(std::unique_ptr<ByteStream> stream) {
    stream_ = std::move(stream);
}

void StreamRequestHandler::release_buffers() {
    if (rfile_) rfile_->release();
    if (wfile_) wfile_->release();
}

ResumableHandler::~ResumableHandler() = default;

void StreamRequestHandler::setup() {
    std::chrono::milliseconds t = timeout.value_or(server().io_timeout());
    if (!stream_) stream_ = std::make_unique<SocketStream>(request().fd, t);
    else stream_->set_timeout(t);
    if (disable_nagle_algorithm && client_address().is_ip()) {
        int one = 1;
        ::setsockopt(request().fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    rfile_ = std::make_unique<Reader>(*stream_, rbufsize);
    wfile_ = std::make_unique<Writer>(*stream_, wbufsize);
}

void StreamRequestHandler::finish() {
    if (!wfile_) return;
    try {
        wfile_->flush();
    } catch (const std::system_error&) {
        // The peer may have gone away; nothing left to tell it.
    }
}

}  // namespace sockhost::sdk
