// SPDX-License-Identifier: MIT
// StreamRequestHandler and ResumableStreamHandler's driver.
#include "sockhost/sdk/stream_request_handler.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <stdexcept>
#include <system_error>

#include "sockhost/sdk/errors.hpp"

namespace sockhost::sdk {

StreamRequestHandler::StreamRequestHandler() = default;
StreamRequestHandler::~StreamRequestHandler() = default;

void StreamRequestHandler::setup() {
    if (request().stream == nullptr) throw std::logic_error("StreamRequestHandler: the connection has no stream");
    ByteStream& stream = *request().stream;
    stream.set_timeout(timeout.value_or(server().io_timeout()));
    if (disable_nagle_algorithm && peer_address().is_ip() && stream.fd() >= 0) {
        int one = 1;
        ::setsockopt(stream.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    rfile_ = std::make_unique<Reader>(stream, rbufsize);
    wfile_ = std::make_unique<Writer>(stream, wbufsize);
}

void StreamRequestHandler::finish() {
    if (!wfile_) return;
    try {
        wfile_->flush();
    } catch (const std::system_error&) {
        // The peer may have gone away; nothing left to tell it.
    }
}

void StreamRequestHandler::release_idle_memory() {
    if (rfile_) rfile_->release();
    if (wfile_) wfile_->release();
}

// --- ResumableStreamHandler ----------------------------------------------------

namespace {
/// Longest single wait of a parked connection before it looks at
/// server().stopping() again.
constexpr std::chrono::milliseconds kIdleSlice{250};
}  // namespace

ResumableStreamHandler::ResumableStreamHandler() = default;
ResumableStreamHandler::~ResumableStreamHandler() = default;

void ResumableStreamHandler::handle() {
    ByteStream& stream = connection();
    const std::chrono::milliseconds io_timeout = stream.timeout();
    while (handle_ready() == Resume::park) {
        // Parked: wait for input on this thread, as the event model waits in
        // epoll. The bytes that end the wait stay in rfile for the next turn.
        for (;;) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(idle_deadline() - Clock::now());
            if (left.count() <= 0) {
                handle_idle_timeout();
                return;
            }
            stream.set_timeout(std::min(left, kIdleSlice));
            try {
                rfile().fill();   // at end of stream, the next turn sees it
                break;
            } catch (const TimeoutError&) {
                // A stopping host closes a connection between requests; a
                // half-received request, or a first one not yet arrived,
                // still gets its deadline.
                if (server().stopping() && rfile().buffered().empty() && between_requests()) return;
            } catch (const std::system_error&) {
                return;   // the connection failed while idle: close quietly
            }
        }
        stream.set_timeout(io_timeout);
    }
}

}  // namespace sockhost::sdk
