// SPDX-License-Identifier: MIT
// echo: returns exactly the bytes it receives, on every transport.
//
// [server.options]: none.
#pragma once

#include <sockhost/sdk.hpp>

namespace sockhost::plugins::echo {

/// Stream transports: copies rfile to wfile until the peer closes (or
/// half-closes) its side, then returns; binary-safe.
class EchoStreamHandler : public sdk::StreamRequestHandler {
public:
    void handle() override;
};

/// Datagram transports: one reply per datagram, the same bytes.
class EchoDatagramHandler : public sdk::DatagramRequestHandler {
public:
    void handle() override;
};

}  // namespace sockhost::plugins::echo
