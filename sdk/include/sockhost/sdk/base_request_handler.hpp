// SPDX-License-Identifier: MIT
// BaseRequestHandler: socketserver.BaseRequestHandler, one object per request.
#pragma once

#include <chrono>
#include <string_view>

#include "sockhost/sdk/abi.hpp"
#include "sockhost/sdk/byte_stream.hpp"
#include "sockhost/sdk/server_context.hpp"
#include "sockhost/sdk/socket_address.hpp"
#include "sockhost/sdk/tls_info.hpp"

namespace sockhost::sdk {

/// What the host hands a handler.
struct Request {
    /// Stream transports: the connected socket; datagram transports: the
    /// server socket replies go through. Not owned by the handler.
    int fd = -1;
    /// Stream transports: the connection as bytes (a socket, or TLS over
    /// it). The host owns it; StreamRequestHandler reads and writes here.
    ByteStream* stream = nullptr;
    /// Datagram transports: the datagram; valid until finish() returns.
    std::string_view datagram;
    /// The client: the socket's peer, or what a trusted proxy said it is
    /// (PROXY protocol).
    SocketAddress client;
    /// The socket's own peer (a proxy, when one is in front).
    SocketAddress peer;
    /// Set when the host terminates TLS on this connection.
    const TlsInfo* tls = nullptr;
};

/// What a resumable handler wants done with its connection once
/// handle_ready() returns.
enum class Resume {
    park,    // keep it; call handle_ready() again when more bytes arrive
    close,   // done: the host runs finish() and closes it
};

/// One handler object serves one request (one connection for stream
/// transports, one datagram for datagram transports). The host constructs it
/// through the plugin's factory, calls bind(), then drives it:
///
///   setup()
///   handle_ready() ... each time the connection has input, while it returns park
///   finish()       always, also when setup() or a turn threw (Python skips it
///                  when setup() throws; we do not)
///
/// handle_ready() is the resumable form of handle(): by default it runs
/// handle() to completion and returns close, which is all a handler written
/// as Python's (setup/handle/finish) needs. A handler that serves a
/// connection in turns (ResumableStreamHandler) overrides it, and then waits
/// between requests in the host without holding a thread under
/// concurrency = "event". Turns never overlap, but successive ones may run
/// on different threads.
///
/// Handlers run on whatever thread or process the server's concurrency model
/// chooses; a plugin that declares itself thread-safe must not share mutable
/// state between handler objects without its own locking.
class SOCKHOST_SDK_API BaseRequestHandler {
public:
    using Clock = std::chrono::steady_clock;

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

    /// One turn: serves what has arrived without waiting for a peer that has
    /// not sent yet, then returns park (call again when more arrives) or
    /// close. The default runs handle() and returns close.
    virtual Resume handle_ready();
    /// How long a parked connection may wait for its next bytes; past it the
    /// host calls handle_idle_timeout(), then finish(), and closes. The
    /// default: forever.
    virtual Clock::time_point idle_deadline() const;
    /// The connection idled past idle_deadline(): a last word (an HTTP 408
    /// for a half-received request), or nothing (the default).
    virtual void handle_idle_timeout();
    /// Whether a stopping host may close the connection now, losing
    /// nothing: between requests, with nothing half-received and no answer
    /// owed. False for a connection still waiting for its first request (its
    /// client has connected to be served). The default: true.
    virtual bool between_requests() const;
    /// The connection is about to wait without a thread: give back memory
    /// the next turn can make again (buffers, the last request's fields).
    /// Called only by a host that parks connections. Call the base.
    virtual void release_idle_memory();

    const Request& request() const { return request_; }
    /// The client (after PROXY protocol); Python's client_address.
    const SocketAddress& client_address() const { return request_.client; }
    /// The socket's peer (the proxy's address behind one).
    const SocketAddress& peer_address() const { return request_.peer; }
    /// TLS facts, or nullptr on a plain connection.
    const TlsInfo* tls() const { return request_.tls; }
    ServerContext& server() const { return *server_; }

    /// Called by the host (or the test kit) once, before setup(). Do not call.
    void bind(const Request& request, ServerContext& server);

protected:
    /// Shorthand for server().log(level, message).
    void log(LogLevel level, std::string_view message) const;
    /// Replaces the client address for logs and the handler's own use (the
    /// HTTP layer, for a trusted proxy's X-Forwarded-For).
    void set_client_address(const SocketAddress& client) { request_.client = client; }

private:
    Request request_;
    ServerContext* server_ = nullptr;
};

/// Drives one handler as Python does: setup(), handle(), finish() with
/// finish() guaranteed. The first exception thrown (by setup, handle or
/// finish) is rethrown after finish() has run; the caller (the host's
/// handle_error) logs it.
SOCKHOST_SDK_API void run_handler(BaseRequestHandler& handler);

}  // namespace sockhost::sdk
