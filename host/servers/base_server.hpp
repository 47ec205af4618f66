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
// The concurrency model sees the server as a RequestSink
// (host/concurrency/request_sink.hpp).
//
// Departures from Python, on purpose: shutdown() wakes the loop at once (an
// eventfd, no 0.5 s polling); serve_forever() also calls handle_timeout()
// after `timeout` seconds without a request; finish() runs after a throwing
// setup(); accept errors such as EMFILE pause accepting briefly instead of
// spinning; no reverse DNS anywhere.
#pragma once

#include <poll.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <memory>
#include <string>

#include <sockhost/sdk/plugin.hpp>
#include <sockhost/sdk/posix/unique_fd.hpp>
#include <sockhost/sdk/server_context.hpp>

#include "host/concurrency/request_sink.hpp"
#include "host/config.hpp"
#include "host/streams/host_stream.hpp"

namespace sockhost::host {

class ConcurrencyModel;

/// Methods for the caller: open() (server_bind, server_activate),
/// serve_forever, shutdown, handle_request, server_close.
/// Methods that may be overridden: server_bind, server_activate, get_request,
/// verify_request, shutdown_request, close_request, handle_timeout,
/// service_actions.
/// The concurrency model (sync, threading, forking, event) is a strategy
/// object the server holds; it alone decides where finish_request runs, and
/// it sees the server only as a RequestSink.
class BaseServer : public sdk::ServerContext, private RequestSink, private AccessLogSink {
public:
    BaseServer(ServerConfig config, sdk::HandlerFactory factory, sdk::Protocol protocol,
               std::unique_ptr<ConcurrencyModel> model);
    ~BaseServer() override;
    BaseServer(const BaseServer&) = delete;
    BaseServer& operator=(const BaseServer&) = delete;

    // --- Methods for the caller --------------------------------------------
    /// server_bind() then server_activate(). Throws std::system_error.
    void open();
    /// Instead of open(): takes over `fd`, a socket bound and activated by
    /// another process (a supervisor, which passed it on at fork) for this
    /// server's listen address. Closing it never removes a Unix socket file.
    void adopt(int fd);
    /// Handles requests until shutdown() is called (from any thread).
    void serve_forever();
    /// Asks serve_forever() to return; wakes it at once. Thread-safe.
    void shutdown();
    /// Handles one request, waiting at most `timeout` (handle_timeout() then).
    void handle_request();
    /// Takes no more requests: the model stops accepting, a stream socket
    /// closes (this process's copy). In-flight requests go on. Idempotent.
    void stop_accepting();
    /// Stops taking requests, waits for in-flight ones until `deadline`
    /// (block_on_close), closes the socket. Returns how many requests were
    /// still running at the deadline.
    std::size_t server_close(std::chrono::steady_clock::time_point deadline);
    /// The listening/datagram socket.
    int fileno() const override { return socket_.get(); }
    const ServerConfig& config() const { return config_; }
    std::string_view model_name() const;
    /// In a worker process: closing must not remove the Unix socket file,
    /// which the supervisor and the other workers still use.
    void keep_socket_file() { remove_socket_file_ = false; }
    /// In a freshly forked worker, before its loop starts: a wake-up eventfd
    /// of its own (an inherited one is shared with every other worker, which
    /// could drain this worker's shutdown wake-up).
    void renew_wakeup();
    /// The SDK ABI minor the plugin was built for (fields of a later minor
    /// in what it passes are not read).
    void set_plugin_abi_minor(std::uint32_t minor) { plugin_abi_minor_ = minor; }
    /// The plugin's clients speak first (PluginInfo::client_speaks_first):
    /// a stream server spends no thread or child on a connection before its
    /// first bytes (TCP_DEFER_ACCEPT, then the server's own wait; SPEC, issue 14).
    void set_client_speaks_first(bool yes);

    // --- sdk::ServerContext ------------------------------------------------
    const std::string& name() const override { return config_.name; }
    const sdk::SocketAddress& server_address() const override { return server_address_; }
    const sdk::Options& options() const override { return config_.options; }
    std::chrono::milliseconds io_timeout() const override;
    bool stopping() const override { return stopping_.load(std::memory_order_relaxed); }
    void log(sdk::LogLevel level, std::string_view message) const override;
    void log_access(const sdk::AccessRecord& record) const override;
    /// Access lines are logged at info: false when the log level is higher.
    bool access_log_enabled() const override;

protected:
    // --- Methods that may be overridden -------------------------------------
    virtual void server_bind() = 0;
    virtual void server_activate() {}
    /// Takes one request; false when none is ready. Throws std::system_error.
    virtual bool get_request(PendingRequest& request) = 0;
    virtual bool verify_request(const PendingRequest& request);
    virtual void handle_timeout();
    virtual void service_actions();
    /// Closes the request (stream: SHUT_WR then close, after a lingering
    /// close when the client is still sending).
    void shutdown_request(PendingRequest& request) override;
    /// Releases the request in a process that does not serve it (fork parent).
    void close_request(PendingRequest& request) override;
    /// Closes the server socket (Unix servers also remove their file).
    virtual void close_socket();

    /// Gives the concurrency model the request.
    void process_request(PendingRequest& request);
    /// One ready request through get/verify/process; false when none was ready.
    bool handle_request_noblock(bool* exhausted = nullptr);

    ServerConfig config_;
    sdk::posix::UniqueFd socket_;
    sdk::SocketAddress server_address_;
    bool remove_socket_file_ = true;
    bool accept_nonblocking_ = false;

private:
    // --- RequestSink: what the concurrency model may ask --------------------
    sdk::Transport transport() const override;
    sdk::Protocol protocol() const override { return protocol_; }
    void mark_stopping() noexcept override { stopping_.store(true, std::memory_order_relaxed); }
    void process_request_inline(PendingRequest& request) override;
    void finish_request(PendingRequest& request) override;
    std::unique_ptr<sdk::BaseRequestHandler> make_handler(PendingRequest& request) override;
    void handle_error(const PendingRequest& request, std::exception_ptr error) override;
    bool begin_shutdown(PendingRequest& request) override;
    void abort_request(PendingRequest& request) override;
    // --- AccessLogSink --------------------------------------------------------
    void write_access(const sdk::AccessRecord& record) const override;
    void accept_nonblocking() override { accept_nonblocking_ = true; }
    bool take_ready_request(bool* exhausted) override { return handle_request_noblock(exhausted); }

    sdk::HandlerFactory factory_;
    sdk::Protocol protocol_;
    std::uint32_t plugin_abi_minor_ = sdk::kAbiMinor;
    std::unique_ptr<ConcurrencyModel> model_;
    sdk::posix::UniqueFd wake_;                       // eventfd: shutdown() wakes the loop
    std::atomic<bool> shutdown_requested_{false};
    std::atomic<bool> stopping_{false};
    std::chrono::steady_clock::time_point accept_paused_until_{};
    std::chrono::steady_clock::time_point last_accept_error_log_{};
    // Connections accepted but silent so far (sync, threading, forking):
    // held by the serve loop, without a thread or a child, until their first
    // bytes, or closed after io_timeout. Only the serve loop's thread.
    struct Silent {
        PendingRequest request;
        std::chrono::steady_clock::time_point deadline;
    };
    bool hold_silent_ = false;
    std::vector<Silent> silent_;
    /// Hands the silent connections that spoke (`ready`) to the model,
    /// closes those past their deadline.
    void service_silent(const std::vector<pollfd>& fds, std::size_t first);
    void dispatch(PendingRequest& request);
};

/// The server class for a listen address: TCPServer, UDPServer,
/// UnixStreamServer or UnixDatagramServer, with the configured model.
std::unique_ptr<BaseServer> make_server(ServerConfig config, sdk::HandlerFactory factory,
                                        sdk::Protocol protocol = sdk::Protocol::raw);

}  // namespace sockhost::host
