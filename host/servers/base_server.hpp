// SPDX-License-Identifier: MIT
// BaseServer: socketserver.BaseServer — the request loop and its hooks.
//
// The call sequence (as in socketserver):
//
//   serve_forever()                 loop until shutdown(); per wakeup:
//     handle_request_noblock()        for each ready request:
//       get_request()                   accept() / recvfrom()
//       verify_request()                allow/deny CIDR lists
//       process_request()               the concurrency model decides where:
//         finish_request()                handler = factory(); setup/handle/finish
//         shutdown_request()              SHUT_WR + close (stream); nothing (datagram)
//       handle_error()                  any exception: log it, serve on
//     service_actions()               reap finished threads / children
//   handle_request()                one request, waiting at most `timeout`;
//     handle_timeout()                called when none came
//   server_close()                  wait for in-flight requests (bounded), close
//
// Departures from Python, on purpose: shutdown() wakes the loop at once (an
// eventfd, no 0.5 s polling); serve_forever() also calls handle_timeout()
// after `timeout` seconds without a request; finish() runs after a throwing
// setup(); accept errors such as EMFILE pause accepting briefly instead of
// spinning; no reverse DNS anywhere.
#pragma once

#include <atomic>
#include <chrono>
#include <exception>
#include <memory>
#include <string>

#include <sockhost/sdk/plugin.hpp>
#include <sockhost/sdk/server_context.hpp>

#include "host/config.hpp"
#include "host/posix/unique_fd.hpp"

namespace sockhost::host {

/// One request taken off a server socket.
struct PendingRequest {
    UniqueFd connection;          // stream transports: the accepted socket
    /// Stream transports: the connection's byte stream, made by the model
    /// (the event model's) or by make_handler() (a blocking SocketStream).
    std::unique_ptr<sdk::ByteStream> stream;
    std::string datagram;         // datagram transports: the bytes received
    sdk::SocketAddress client;    // the peer, as accept/recvfrom gave it
};

class ConcurrencyModel;

/// Methods for the caller: server_bind/server_activate (via open()),
/// serve_forever, shutdown, handle_request, server_close.
/// Methods that may be overridden: server_bind, server_activate, get_request,
/// verify_request, shutdown_request, close_request, handle_timeout,
/// service_actions.
/// The concurrency model (sync, threading, forking) is a strategy object the
/// server holds; it alone decides where finish_request runs.
class BaseServer : public sdk::ServerContext {
public:
    BaseServer(ServerConfig config, sdk::HandlerFactory factory, sdk::Protocol protocol,
               std::unique_ptr<ConcurrencyModel> model);
    ~BaseServer() override;
    BaseServer(const BaseServer&) = delete;
    BaseServer& operator=(const BaseServer&) = delete;

    // --- Methods for the caller --------------------------------------------
    /// server_bind() then server_activate(). Throws std::system_error.
    void open();
    /// Handles requests until shutdown() is called (from any thread).
    void serve_forever();
    /// Asks serve_forever() to return; wakes it at once. Thread-safe.
    void shutdown();
    /// Handles one request, waiting at most `timeout` (handle_timeout() then).
    void handle_request();
    /// Stops taking requests, waits for in-flight ones until `deadline`
    /// (block_on_close), closes the socket. Returns how many requests were
    /// still running at the deadline.
    std::size_t server_close(std::chrono::steady_clock::time_point deadline);
    /// The listening/datagram socket.
    int fileno() const { return socket_.get(); }
    const ServerConfig& config() const { return config_; }
    sdk::Transport transport() const;
    /// The protocol family the plugin declared (for the answers the host
    /// writes itself).
    sdk::Protocol protocol() const { return protocol_; }
    std::string_view model_name() const;

    // --- sdk::ServerContext ------------------------------------------------
    const std::string& name() const override { return config_.name; }
    const sdk::SocketAddress& server_address() const override { return server_address_; }
    const sdk::Options& options() const override { return config_.options; }
    std::chrono::milliseconds io_timeout() const override;
    bool stopping() const override { return stopping_.load(std::memory_order_relaxed); }
    /// Makes stopping() true (async-signal-safe): handlers finish their
    /// current request and return. Used in forked children on SIGTERM.
    void mark_stopping() noexcept { stopping_.store(true, std::memory_order_relaxed); }
    /// Accepted connections come non-blocking (concurrency = "event": its
    /// stream waits with poll(), not in a blocking call). Before serving.
    void accept_nonblocking() { accept_nonblocking_ = true; }
    /// In a worker process: closing must not remove the Unix socket file,
    /// which the supervisor and the other workers still use.
    void keep_socket_file() { remove_socket_file_ = false; }
    /// In a freshly forked worker, before its loop starts: a wake-up eventfd
    /// of its own (an inherited one is shared with every other worker, which
    /// could drain this worker's shutdown wake-up).
    void renew_wakeup();
    void log(sdk::LogLevel level, std::string_view message) const override;
    void log_access(const sdk::AccessRecord& record) const override;
    /// Access lines are logged at info: false when the log level is higher.
    bool access_log_enabled() const override;

    // --- Used by concurrency models ------------------------------------------
    /// One ready request through get_request/verify_request/process_request
    /// on the calling thread (a model's own thread, for a model that
    /// takes_socket()); false when none was ready.
    /// `exhausted` (optional): set instead of pausing the loop's accepting
    /// when the process is out of descriptors or memory (EMFILE, ENFILE,
    /// ENOBUFS, ENOMEM), for the model to pause its own.
    bool take_ready_request(bool* exhausted = nullptr) { return handle_request_noblock(exhausted); }
    /// finish_request, handle_error on exception, shutdown_request: one
    /// request from start to end on the calling thread or process.
    void process_request_inline(PendingRequest& request);
    /// Makes the plugin's handler and drives setup/handle/finish.
    void finish_request(PendingRequest& request);
    /// finish_request's first half: the plugin's handler, bound to `request`
    /// (which must outlive it; a stream connection gets its stream here
    /// unless the model made one). Throws when the plugin makes none.
    std::unique_ptr<sdk::BaseRequestHandler> make_handler(PendingRequest& request);
    /// Logs an exception that escaped a request, with server and client.
    void handle_error(const PendingRequest& request, std::exception_ptr error);
    /// Closes the request (stream: SHUT_WR then close; a client still
    /// sending is drained first, for at most 2 s: lingering close).
    virtual void shutdown_request(PendingRequest& request);
    /// shutdown_request without the wait: one look for unread input (dropped),
    /// then close. False when the connection was closed here (the usual
    /// case); true when the client is still sending: its write side is shut
    /// and the caller drains it until it closes (at most lingering_time())
    /// and then closes it.
    bool begin_shutdown(PendingRequest& request);
    static constexpr std::chrono::seconds lingering_time{2};
    /// Releases the request in a process that does not serve it (fork parent).
    virtual void close_request(PendingRequest& request);

protected:
    // --- Methods that may be overridden -------------------------------------
    virtual void server_bind() = 0;
    virtual void server_activate() {}
    /// Takes one request; false when none is ready. Throws std::system_error.
    virtual bool get_request(PendingRequest& request) = 0;
    virtual bool verify_request(const PendingRequest& request);
    virtual void handle_timeout();
    virtual void service_actions();
    /// Closes the server socket (Unix servers also remove their file).
    virtual void close_socket();

    /// Gives the concurrency model the request.
    void process_request(PendingRequest& request);
    /// One ready request through get/verify/process; false when none was ready.
    bool handle_request_noblock(bool* exhausted = nullptr);

    ServerConfig config_;
    UniqueFd socket_;
    sdk::SocketAddress server_address_;
    bool remove_socket_file_ = true;
    bool accept_nonblocking_ = false;

private:
    sdk::HandlerFactory factory_;
    sdk::Protocol protocol_;
    std::unique_ptr<ConcurrencyModel> model_;
    UniqueFd wake_;                                   // eventfd: shutdown() wakes the loop
    std::atomic<bool> shutdown_requested_{false};
    std::atomic<bool> stopping_{false};
    std::chrono::steady_clock::time_point accept_paused_until_{};
    std::chrono::steady_clock::time_point last_accept_error_log_{};
};

/// The server class for a listen address: TCPServer, UDPServer,
/// UnixStreamServer or UnixDatagramServer, with the configured model.
std::unique_ptr<BaseServer> make_server(ServerConfig config, sdk::HandlerFactory factory,
                                        sdk::Protocol protocol = sdk::Protocol::raw);

}  // namespace sockhost::host
