// SPDX-License-Identifier: MIT
// StreamRequestHandler: socketserver.StreamRequestHandler, with rfile and
// wfile; ResumableStreamHandler: the same, written as turns.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>

#include "sockhost/sdk/abi.hpp"
#include "sockhost/sdk/base_request_handler.hpp"
#include "sockhost/sdk/buffered_io.hpp"
#include "sockhost/sdk/byte_stream.hpp"

namespace sockhost::sdk {

/// Services a byte stream. setup() builds rfile/wfile over the connection's
/// stream (request().stream), applies the timeout and the Nagle switch;
/// finish() flushes wfile.
class SOCKHOST_SDK_API StreamRequestHandler : public BaseRequestHandler {
public:
    StreamRequestHandler();
    ~StreamRequestHandler() override;

    /// May be overridden; call the base first.
    void setup() override;
    /// May be overridden; call the base last. Flush errors are ignored, as the
    /// peer may already be gone (Python does the same).
    void finish() override;
    /// Gives rfile's and wfile's buffers back (rfile keeps unread bytes).
    void release_idle_memory() override;

    Reader& rfile() { return *rfile_; }
    Writer& wfile() { return *wfile_; }
    const Reader& rfile() const { return *rfile_; }
    ByteStream& connection() { return *request().stream; }

protected:
    /// Per-wait I/O timeout; unset = the server's io_timeout(); zero = none.
    /// Set it in the constructor (Python's class attribute `timeout`).
    std::optional<std::chrono::milliseconds> timeout;
    /// Sets TCP_NODELAY on TCP connections (Python's disable_nagle_algorithm).
    bool disable_nagle_algorithm = false;
    /// Buffer sizes (Python's rbufsize / wbufsize).
    std::size_t rbufsize = 16 * 1024;
    std::size_t wbufsize = 16 * 1024;

private:
    std::unique_ptr<Reader> rfile_;
    std::unique_ptr<Writer> wfile_;
};

/// A stream handler written once for every concurrency model: it serves a
/// connection in turns (handle_ready()), each reading only what has arrived
/// (rfile().fill_nowait()) and returning park to wait for more or close.
///
/// Under concurrency = "event" the host calls handle_ready() whenever the
/// connection has input, and a parked connection waits in its epoll set,
/// not on a thread. Under the other models handle() (final) runs the same
/// turns: after each park it waits for input (rfile().fill()) until
/// idle_deadline(), then calls handle_idle_timeout() and returns. Either
/// way, once the host is stopping an idle connection (nothing buffered, no
/// input waiting) is closed.
///
///     class Echo : public sdk::ResumableStreamHandler {
///         sdk::Resume handle_ready() override;   // the protocol, once
///     };
class SOCKHOST_SDK_API ResumableStreamHandler : public StreamRequestHandler {
public:
    ResumableStreamHandler();
    ~ResumableStreamHandler() override;

    /// Runs handle_ready() turns, waiting for input between them.
    void handle() final;
    /// Serves what has arrived; never waits for a peer that has not sent.
    /// Writing may wait (bounded by the I/O timeout) or be deferred by the
    /// stream. Returns park to wait for more, close when done.
    Resume handle_ready() override = 0;
};

}  // namespace sockhost::sdk
