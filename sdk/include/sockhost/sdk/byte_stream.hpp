// SPDX-License-Identifier: MIT
// ByteStream: the byte transport under a handler's rfile and wfile, and
// MemoryStream, one held in memory.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "sockhost/sdk/abi.hpp"

namespace sockhost::sdk {

/// The byte transport under rfile/wfile. The host gives every stream
/// connection one (a socket, later a TLS session over it); the test kit
/// gives a MemoryStream. Errors are std::system_error; a wait that ran past
/// the timeout is TimeoutError.
///
/// A stream may defer writes: when the peer reads slowly, what does not fit
/// the socket is queued and the write returns (pending() is then true); the
/// host sends the queue once the socket is writable, without a thread
/// waiting. Reads and shutdown_write() send the queue first, so bytes leave
/// in the order written.
class SOCKHOST_SDK_API ByteStream {
public:
    virtual ~ByteStream();
    /// Reads at least 1 byte, waiting up to the timeout; 0 = end of stream.
    virtual std::size_t read_some(char* buffer, std::size_t size) = 0;
    /// Reads only what has already arrived, never waiting: nullopt when
    /// nothing has, 0 at end of stream. By default read_some() (a stream
    /// that never waits, such as MemoryStream).
    virtual std::optional<std::size_t> read_nowait(char* buffer, std::size_t size);
    /// Writes `first` then `second` (either may be empty) as one write.
    virtual void write(std::string_view first, std::string_view second = {}) = 0;
    /// As write(), telling the transport that more follows at once
    /// (MSG_MORE: a response head before its file, the last bytes before a
    /// close), so they leave in as few segments as possible.
    virtual void write_more(std::string_view data) { write(data); }
    /// Sends `count` bytes of file `in_fd` from `offset` (sendfile on a
    /// socket; by default read and written in 64 KiB pieces).
    virtual void send_file(int in_fd, off_t offset, std::size_t count);
    /// Half-close: the peer reads end of stream; reading goes on.
    virtual void shutdown_write() {}
    /// The bound of each later wait; zero = wait forever.
    virtual void set_timeout(std::chrono::milliseconds timeout) { (void)timeout; }
    virtual std::chrono::milliseconds timeout() const { return std::chrono::milliseconds{0}; }
    /// True while written bytes wait in the stream for a slow reader.
    virtual bool pending() const { return false; }
    /// The socket underneath, or -1 (a MemoryStream). For socket options
    /// (TCP_NODELAY, TCP_CORK); never read or write it directly.
    virtual int fd() const { return -1; }
};

/// A ByteStream in memory: reads come from `input`, at most `chunk` bytes at
/// a time (so a parser can be fed a byte at a time), and never wait; writes
/// are collected in output(). Datagram handlers read and answer through two
/// of them; the test kit runs stream handlers over one.
class SOCKHOST_SDK_API MemoryStream : public ByteStream {
public:
    explicit MemoryStream(std::string input = {}, std::size_t chunk = static_cast<std::size_t>(-1));
    ~MemoryStream() override;
    std::size_t read_some(char* buffer, std::size_t size) override;
    void write(std::string_view first, std::string_view second = {}) override;
    void shutdown_write() override { write_closed_ = true; }
    const std::string& output() const { return output_; }
    bool write_closed() const { return write_closed_; }

private:
    std::string input_;
    std::size_t pos_ = 0;
    std::size_t chunk_;
    std::string output_;
    bool write_closed_ = false;
};

}  // namespace sockhost::sdk
