// SPDX-License-Identifier: MIT
// rfile and wfile: a buffered Reader and Writer over a ByteStream.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "sockhost/sdk/abi.hpp"
#include "sockhost/sdk/byte_stream.hpp"

namespace sockhost::sdk {

/// rfile: a buffered reader (Python's BufferedReader subset).
class SOCKHOST_SDK_API Reader {
public:
    explicit Reader(ByteStream& stream, std::size_t chunk = 16 * 1024);
    ~Reader();
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;

    /// Up to n bytes: fewer only at end of stream.
    std::string read(std::size_t n);
    /// Everything until end of stream.
    std::string read_all();
    /// At most n bytes with at most one read from the stream; "" at end of stream.
    std::string read1(std::size_t n);
    /// One line including its '\n', or at most `limit` bytes, or what is left
    /// at end of stream ("" when nothing is).
    std::string readline(std::size_t limit = static_cast<std::size_t>(-1));

    /// Zero-copy access for parsers: the bytes buffered but not consumed.
    std::string_view buffered() const { return std::string_view(buf_.data() + pos_, end_ - pos_); }
    /// Reads more from the stream into the buffer, waiting up to the
    /// stream's timeout; returns the bytes added (0 = end of stream).
    std::size_t fill();
    /// Like fill(), but never waits: reads what has already arrived.
    /// nullopt = nothing yet; 0 = end of stream; else the bytes added.
    std::optional<std::size_t> fill_nowait();
    /// Drops n buffered bytes (n <= buffered().size()).
    void consume(std::size_t n);
    /// True once the stream reported end of stream and the buffer is empty.
    bool at_eof() const { return eof_ && pos_ == end_; }
    ByteStream& stream() { return stream_; }
    /// Gives the buffer's memory back (down to what is still buffered), for a
    /// connection about to idle. The next fill() allocates again.
    void release();

private:
    /// Room for chunk_ more bytes at end_ (compacting or growing).
    char* reserve_chunk();

    ByteStream& stream_;
    std::size_t chunk_;
    std::string buf_;          // storage; its size only grows, so no byte is zeroed per read
    std::size_t pos_ = 0;      // buffered data is [pos_, end_)
    std::size_t end_ = 0;
    bool eof_ = false;
};

/// wfile: a buffered writer. Data is sent when the buffer fills, on flush(),
/// and by StreamRequestHandler::finish().
class SOCKHOST_SDK_API Writer {
public:
    explicit Writer(ByteStream& stream, std::size_t buffer_size = 16 * 1024);
    ~Writer();
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    void write(std::string_view data);
    void flush();
    /// As flush(), telling the stream that more follows (MSG_MORE on a
    /// socket): for the last bytes before the connection is closed, so the
    /// FIN leaves in the same segment (nginx's tcp_nopush does this). Must be
    /// followed by a close, a shutdown or a plain write: until then a partial
    /// segment may be held back.
    void flush_more();
    /// Flushes, then sends the file region with zero copies where the stream can.
    void send_file(int in_fd, off_t offset, std::size_t count);
    /// Bytes accepted so far (buffered or sent).
    std::size_t bytes_written() const { return written_; }
    /// Bytes buffered, not yet given to the stream.
    std::size_t pending() const { return buf_.size(); }
    ByteStream& stream() { return stream_; }
    /// Gives the buffer's memory back when nothing is pending (see Reader::release).
    void release();

private:
    void send_buffered_more();   // buf_ with MSG_MORE where the stream can; clears it

    ByteStream& stream_;
    std::size_t buffer_size_;
    std::string buf_;
    std::size_t written_ = 0;
};

}  // namespace sockhost::sdk
