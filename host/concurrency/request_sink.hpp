// SPDX-License-Identifier: MIT
// What a concurrency model gets from its server: the requests, and the few
// things it may ask of the server (socketserver's methods the mixins call).
#pragma once

#include <exception>
#include <memory>
#include <string>
#include <string_view>

#include <sockhost/sdk/base_request_handler.hpp>
#include <sockhost/sdk/byte_stream.hpp>
#include <sockhost/sdk/plugin.hpp>
#include <sockhost/sdk/posix/unique_fd.hpp>
#include <sockhost/sdk/server_context.hpp>
#include <sockhost/sdk/socket_address.hpp>

#include "host/streams/host_stream.hpp"

namespace sockhost::host {

/// One request taken off a server socket.
struct PendingRequest {
    sdk::posix::UniqueFd connection;   // stream transports: the accepted socket
    /// Stream transports: the connection's byte stream, made by the model
    /// (the event model's) or by make_handler() (a blocking SocketStream).
    /// Its destruction writes the access records still waiting for their
    /// answer's last byte.
    std::unique_ptr<HostStream> stream;
    std::string datagram;         // datagram transports: the bytes received
    sdk::SocketAddress client;    // the peer, as accept/recvfrom gave it
};

/// The server as a concurrency model sees it. BaseServer implements it; a
/// model never sees the rest of BaseServer.
class RequestSink {
public:
    virtual ~RequestSink() = default;

    // --- The server ---------------------------------------------------------
    virtual sdk::Transport transport() const = 0;
    /// What the plugin declared it speaks (for the answers a model writes
    /// itself: the overload 503).
    virtual sdk::Protocol protocol() const = 0;
    virtual bool stopping() const = 0;
    /// Makes stopping() true (async-signal-safe): a forked child's SIGTERM.
    virtual void mark_stopping() noexcept = 0;
    virtual void log(sdk::LogLevel level, std::string_view message) const = 0;

    // --- One request, as socketserver names the steps -------------------------
    /// finish_request, handle_error on exception, shutdown_request: one
    /// request from start to end on the calling thread or process.
    virtual void process_request_inline(PendingRequest& request) = 0;
    /// Makes the plugin's handler and drives setup/handle/finish.
    virtual void finish_request(PendingRequest& request) = 0;
    /// finish_request's first half: the plugin's handler, bound to `request`
    /// (which must outlive it; a stream connection gets its stream here
    /// unless the model made one). Throws when the plugin makes none.
    virtual std::unique_ptr<sdk::BaseRequestHandler> make_handler(PendingRequest& request) = 0;
    /// Logs an exception that escaped a request, with server and client.
    virtual void handle_error(const PendingRequest& request, std::exception_ptr error) = 0;
    /// Closes the request (stream: a client still sending is drained first,
    /// at most lingering_time: lingering close).
    virtual void shutdown_request(PendingRequest& request) = 0;
    /// shutdown_request without the wait: one look for unread input
    /// (dropped), then close. False when the connection was closed here (the
    /// usual case); true when the client is still sending: its write side is
    /// shut and the caller drains it (a LingeringClose) and closes it.
    virtual bool begin_shutdown(PendingRequest& request) = 0;
    /// Closes the connection with a RST (SO_LINGER 0): its peer stalled or
    /// failed to take the answer (SPEC "Aborts"). shutdown_request() does
    /// this itself when the request's stream saw its send fail.
    virtual void abort_request(PendingRequest& request) = 0;
    /// Releases the request in a process that does not serve it (fork parent).
    virtual void close_request(PendingRequest& request) = 0;

    // --- For a model that takes requests off the socket itself (event) ------
    virtual int fileno() const = 0;
    /// Accepted connections come non-blocking. Before serving.
    virtual void accept_nonblocking() = 0;
    /// One ready request through get_request/verify_request/process_request
    /// on the calling thread; false when none was ready. `exhausted`
    /// (optional): set instead of pausing the loop's accepting when the
    /// process is out of descriptors or memory, for the model to pause its own.
    virtual bool take_ready_request(bool* exhausted = nullptr) = 0;
};

}  // namespace sockhost::host
