// SPDX-License-Identifier: MIT
// The concurrency models (socketserver's mixins, held by composition): where
// and how a server runs each request.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

#include "host/concurrency/request_sink.hpp"
#include "host/config.hpp"

namespace sockhost::host {

/// Strategy behind BaseServer::process_request (socketserver's mixins, held
/// by composition). All calls except the request itself happen on the
/// server's loop thread; the server is seen only as a RequestSink.
class ConcurrencyModel {
public:
    virtual ~ConcurrencyModel();
    virtual std::string_view name() const = 0;
    /// Runs (or hands off) one request. Takes ownership by moving from
    /// `request` only once it cannot fail any more; throws otherwise.
    virtual void process_request(RequestSink& server, PendingRequest& request) = 0;
    /// Once, when serve_forever starts (in the process that serves: after a
    /// worker fork).
    virtual void serve_started(RequestSink&) {}
    /// True when the model receives from the server socket itself (its own
    /// threads wait on it), so the loop must not.
    virtual bool takes_socket() const { return false; }
    /// The model itself waits (without a thread) for a new connection's
    /// first bytes; otherwise the server holds it until they come.
    virtual bool waits_for_first_bytes() const { return false; }
    /// The server socket is about to close: stop using it (and return only
    /// once no thread of the model is inside an accept on it).
    virtual void release_socket(RequestSink&) {}
    /// Each loop iteration: reap finished threads or children.
    virtual void service_actions(RequestSink&) {}
    /// Extra descriptors the loop waits on (a ready one means "call
    /// service_actions"), e.g. pidfds of forked children.
    virtual void wait_fds(std::vector<int>&) const {}
    /// Longest the loop may sleep before service_actions must run; -1 = no limit.
    virtual int poll_timeout_ms() const { return -1; }
    /// Waits (if block_on_close) for in-flight requests until `deadline`;
    /// returns how many still run then.
    virtual std::size_t server_close(RequestSink&, std::chrono::steady_clock::time_point) {
        return 0;
    }
};

/// "sync": each request runs to completion on the loop thread.
std::unique_ptr<ConcurrencyModel> make_sync_model();
/// "threading": ThreadingMixIn, a thread per request, at most max_threads live.
std::unique_ptr<ConcurrencyModel> make_threading_model(const ServerConfig& config);
/// "forking": ForkingMixIn, a child process per request, at most max_children.
std::unique_ptr<ConcurrencyModel> make_forking_model(const ServerConfig& config);
/// "event": an epoll set holds the connections, a bounded pool of `threads`
/// runs their requests; idle keep-alive connections wait without a thread.
std::unique_ptr<ConcurrencyModel> make_event_model(const ServerConfig& config);

std::unique_ptr<ConcurrencyModel> make_model(const ServerConfig& config);

}  // namespace sockhost::host
