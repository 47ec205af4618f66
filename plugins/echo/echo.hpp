// SPDX-License-Identifier: MIT
// echo: returns exactly the bytes it receives, on every transport.
//
// [server.options]: none.
#pragma once

#include <sockhost/sdk.hpp>

namespace sockhost::plugins::echo {

/// Stream transports: copies rfile to wfile until the peer closes (or
/// half-closes) its side; binary-safe. Written once for every concurrency
/// model: under concurrency = "event" a connection waits for its next bytes
/// in the host's epoll set, not on a thread.
class EchoStreamHandler : public sdk::ResumableStreamHandler {
public:
    /// Echoes what has arrived, never waiting for more; close at end of stream.
    sdk::Resume handle_ready() override;
    /// The server's io_timeout after the last bytes (none when it is 0).
    Clock::time_point idle_deadline() const override;

private:
    Clock::time_point last_active_{};
};

/// Datagram transports: one reply per datagram, the same bytes.
class EchoDatagramHandler : public sdk::DatagramRequestHandler {
public:
    void handle() override;
};

}  // namespace sockhost::plugins::echo
