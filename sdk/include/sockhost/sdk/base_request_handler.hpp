// SPDX-License-Identifier: MIT
// BaseRequestHandler: socketserver.BaseRequestHandler, one object per request.
#pragma once

#include <string_view>

#include "sockhost/sdk/abi.hpp"
#include "sockhost/sdk/server_context.hpp"
#include "sockhost/sdk/socket_address.hpp"

namespace sockhost::sdk {

/// What the host hands a handler: for stream transports the connected socket;
/// for datagram transports the server socket (to reply through) and the
/// datagram's bytes.
struct Request {
    int fd = -1;                  // not owned by the handler; the host closes it
    std::string_view datagram;    // datagram transports only; valid until finish() returns
};

/// One handler object serves one request (one connection for stream
/// transports, one datagram for datagram transports). The host constructs it
/// through the plugin's factory, calls bind(), then run_handler():
/// setup(), handle(), finish() — finish() runs even when setup() or handle()
/// throws (Python skips it when setup() throws; we do not).
///
/// Handlers run on whatever thread or process the server's concurrency model
/// chooses; a plugin that declares itself thread-safe must not share mutable
/// state between handler objects without its own locking.
class SOCKHOST_SDK_API BaseRequestHandler {
public:
    BaseRequestHandler();
    virtual ~BaseRequestHandler();
    BaseRequestHandler(const BaseRequestHandler&) = delete;
    BaseRequestHandler& operator=(const BaseRequestHandler&) = delete;

    /// Called before handle(). May be overridden; call the base first.
    virtual void setup();
    /// Services the request. May be overridden (the default does nothing).
    virtual void handle();
    /// Called after handle(), always. May be overridden; call the base last.
    virtual void finish();

    const Request& request() const { return request_; }
    const SocketAddress& client_address() const { return client_address_; }
    ServerContext& server() const { return *server_; }

    /// Called by the host (or the test kit) once, before setup(). Do not call.
    void bind(const Request& request, const SocketAddress& client_address, ServerContext& server);

protected:
    /// Shorthand for server().log(level, message).
    void log(LogLevel level, std::string_view message) const;

private:
    Request request_;
    SocketAddress client_address_;
    ServerContext* server_ = nullptr;
};

/// Drives one handler: setup(), handle(), finish() with finish() guaranteed.
/// The first exception thrown (by setup, handle or finish) is rethrown after
/// finish() has run; the caller (the host's handle_error) logs it.
SOCKHOST_SDK_API void run_handler(BaseRequestHandler& handler);

}  // namespace sockhost::sdk
