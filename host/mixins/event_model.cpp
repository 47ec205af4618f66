// SPDX-License-Identifier: MIT
// The event model (concurrency = "event"), Apache's event MPM idea: the
// server's loop thread owns every connection through an epoll set, a bounded
// pool of handler threads runs the requests, and an idle keep-alive
// connection waits in epoll instead of on a thread.
//
//   loop thread (BaseServer::serve_forever, which also polls the epoll fd):
//     process_request    accepted connection -> make its handler -> queue,
//                        or the overload answer when max_queued are waiting
//     service_actions    epoll_wait(0): parked connections that became
//                        readable -> queue; every 250 ms, parked ones past
//                        their idle deadline -> queue to time out
//   pool threads (`threads` of them):
//     setup() once, then handle_ready() (a sdk::ResumableHandler) or handle()
//     (any other handler, run to completion), then park the connection
//     (EPOLLONESHOT re-armed) or finish() + close it
//
// A connection is in one state at a time, changed only under mutex_, and is
// touched only by the one thread that state belongs to:
//
//   queued (pool's queue) -> running (a pool thread) -> parked (epoll) -> queued ...
//   running -> closed (finish() ran exactly once, then erased)
//   lingering (loop thread): refused with 503, draining input until EOF or 2 s
//
// Datagram servers: the loop thread receives, the pool answers; at most
// max_queued datagrams wait, the rest are dropped (and logged, rate-limited).
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <vector>

#include <sockhost/sdk/http/base_http_request_handler.hpp>
#include <sockhost/sdk/stream_request_handler.hpp>

#include "host/mixins/concurrency.hpp"
#include "host/posix/unique_fd.hpp"
#include "host/servers/base_server.hpp"

namespace sockhost::host {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

/// How often parked connections are checked against their idle deadline.
constexpr auto kScanInterval = 250ms;
/// How long a refused HTTP connection is drained before it is closed, so the
/// 503 is not destroyed by a reset (closing with unread input sends RST).
constexpr auto kLingerTime = 2s;
/// At most one overload log line per this interval.
constexpr auto kOverloadLogInterval = 5s;

/// The overload answer for HTTP handlers (RFC 9110 15.6.4; 10.2.3 Retry-After).
constexpr std::string_view kServiceUnavailable =
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 20\r\n"
    "Retry-After: 1\r\n"
    "Connection: close\r\n"
    "\r\n"
    "server overloaded.\r\n";

/// What a pool thread does with a queued connection.
enum class Action {
    resume,      // run it: setup (first time), then handle_ready() or handle()
    time_out,    // idle past its deadline: handle_idle_timeout(), finish, close
    close,       // the server is closing: finish, close
};

enum class State { queued, running, parked, lingering };

struct Connection {
    std::uint64_t id = 0;                               // the epoll key
    PendingRequest request;                             // the socket and the client
    std::unique_ptr<sdk::BaseRequestHandler> handler;
    sdk::ResumableHandler* resumable = nullptr;         // set after setup()
    sdk::StreamRequestHandler* stream = nullptr;        // ditto, for release_buffers()
    State state = State::queued;
    Action action = Action::resume;
    bool started = false;                               // setup() has run
    bool registered = false;                            // in the epoll set
    Clock::time_point deadline{};                       // parked / lingering until
};

/// A pool job: a connection, or a datagram to answer.
struct Job {
    Connection* connection = nullptr;
    PendingRequest datagram;
};

class EventModel final : public ConcurrencyModel {
public:
    explicit EventModel(const ServerConfig& config)
        : threads_(config.threads > 0 ? static_cast<std::size_t>(config.threads) : default_threads()),
          max_queued_(static_cast<std::size_t>(config.max_queued)),
          block_on_close_(config.block_on_close) {}

    ~EventModel() override {
        bool idle;
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
            idle = running_ == 0;
        }
        work_cv_.notify_all();
        // Threads still busy here were given up at the shutdown deadline; the
        // host exits without returning through them (as ThreadingMixIn).
        for (auto& t : pool_)
            if (t.joinable()) idle ? t.join() : t.detach();
    }

    std::string_view name() const override { return "event"; }

    void process_request(BaseServer& server, PendingRequest& request) override {
        start(server);
        if (!request.connection) {
            queue_datagram(server, request);
            return;
        }
        // Made here, on the loop thread, to know its kind for the overload
        // answer; setup() and everything after run on the pool.
        std::unique_ptr<sdk::BaseRequestHandler> handler = server.make_handler(request);
        const bool http = dynamic_cast<sdk::http::BaseHTTPRequestHandler*>(handler.get()) != nullptr;
        auto c = std::make_unique<Connection>();
        c->request = std::move(request);
        c->handler = std::move(handler);
        {
            std::lock_guard lock(mutex_);
            if (queue_.size() < max_queued_) {
                c->id = next_id_++;
                queue_.push_back(Job{c.get(), {}});
                conns_.emplace(c->id, std::move(c));
                live_.store(conns_.size(), std::memory_order_relaxed);
            }
        }
        if (!c) {
            work_cv_.notify_one();
            return;
        }
        refuse(std::move(c), http);
    }

    void service_actions(BaseServer&) override {
        if (!epoll_) return;
        epoll_event events[256];
        int n = ::epoll_wait(epoll_.get(), events, 256, 0);
        const auto now = Clock::now();
        std::size_t queued = 0;
        std::vector<std::unique_ptr<Connection>> closed;
        {
            std::lock_guard lock(mutex_);
            // Deadlines first: a connection that trickles bytes (slowloris)
            // is woken by each one, and must still time out.
            if (now >= next_scan_) {
                next_scan_ = now + kScanInterval;
                for (auto it = conns_.begin(); it != conns_.end();) {
                    Connection& c = *it->second;
                    if (c.state == State::parked && c.deadline <= now) {
                        enqueue(c, Action::time_out);
                        ++queued;
                    } else if (c.state == State::lingering && c.deadline <= now) {
                        closed.push_back(erase(it++));
                        continue;
                    }
                    ++it;
                }
            }
            for (int i = 0; i < n; ++i) {
                auto it = conns_.find(events[i].data.u64);
                if (it == conns_.end()) continue;   // closed since
                Connection& c = *it->second;
                if (c.state == State::parked) {
                    enqueue(c, Action::resume);
                    ++queued;
                } else if (c.state == State::lingering && !drain(c)) {
                    closed.push_back(erase(it));
                }
            }
        }
        if (queued == 1) work_cv_.notify_one();
        else if (queued > 1) work_cv_.notify_all();
    }

    void wait_fds(std::vector<int>& fds) const override {
        if (epoll_) fds.push_back(epoll_.get());
    }

    int poll_timeout_ms() const override {
        // Parked connections need their idle deadlines checked.
        return live_.load(std::memory_order_relaxed) > 0
                   ? static_cast<int>(std::chrono::milliseconds(kScanInterval).count())
                   : -1;
    }

    std::size_t server_close(BaseServer& server, Clock::time_point deadline) override {
        if (pool_.empty()) return 0;
        std::vector<std::unique_ptr<Connection>> closed;
        std::unique_lock lock(mutex_);
        closing_ = true;
        for (auto it = conns_.begin(); it != conns_.end();) {
            Connection& c = *it->second;
            if (c.state == State::lingering) {
                closed.push_back(erase(it++));
                continue;
            }
            // A parked connection whose next request has already arrived is
            // served (with Connection: close); an idle one is just closed.
            if (c.state == State::parked) enqueue(c, has_input(c) ? Action::resume : Action::close);
            ++it;
        }
        work_cv_.notify_all();
        if (block_on_close_)
            idle_cv_.wait_until(lock, deadline, [&] { return conns_.empty() && running_ == 0; });
        const std::size_t still = conns_.size() + running_;
        stop_ = true;
        lock.unlock();
        work_cv_.notify_all();
        closed.clear();
        if (still > 0) {
            server.log(sdk::LogLevel::warning, std::to_string(still) +
                                                   " connection(s) still being served at shutdown");
            return still;
        }
        for (auto& t : pool_) t.join();
        pool_.clear();
        return 0;
    }

private:
    static std::size_t default_threads() {
        unsigned cores = std::thread::hardware_concurrency();
        return cores > 0 ? cores : 1;
    }

    /// On the first request (on the loop thread): the epoll set and the
    /// pool. Not in the constructor: worker processes fork after the servers
    /// are made, and neither threads nor an epoll set survive a fork.
    void start(BaseServer& server) {
        if (server_ != nullptr) return;
        epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
        if (!epoll_) throw std::system_error(errno, std::generic_category(), "epoll_create1");
        server_ = &server;
        pool_.reserve(threads_);
        for (std::size_t i = 0; i < threads_; ++i) pool_.emplace_back([this] { work(); });
    }

    void queue_datagram(BaseServer& server, PendingRequest& request) {
        {
            std::lock_guard lock(mutex_);
            if (queue_.size() < max_queued_) {
                queue_.push_back(Job{nullptr, std::move(request)});
                work_cv_.notify_one();
                return;
            }
        }
        note_overload(server, "dropping datagrams");
    }

    /// The overload policy (loop thread): HTTP gets a canned 503 and the
    /// connection is drained for a while; a raw stream is closed at once.
    void refuse(std::unique_ptr<Connection> c, bool http) {
        note_overload(*server_, http ? "answering new HTTP connections 503" : "closing new connections");
        if (!http) return;   // the socket closes with `c`
        const int fd = c->request.connection.get();
        // A fresh socket's send buffer is empty: this never blocks.
        [[maybe_unused]] auto sent =
            ::send(fd, kServiceUnavailable.data(), kServiceUnavailable.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        ::shutdown(fd, SHUT_WR);
        c->handler.reset();   // refused before setup(): the handler never ran
        c->state = State::lingering;
        c->deadline = Clock::now() + kLingerTime;
        std::lock_guard lock(mutex_);
        c->id = next_id_++;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.u64 = c->id;
        if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) < 0) return;   // closes now
        c->registered = true;
        conns_.emplace(c->id, std::move(c));
        live_.store(conns_.size(), std::memory_order_relaxed);
    }

    /// One rate-limited log line for everything refused or dropped.
    void note_overload(BaseServer& server, std::string_view what) {
        ++refused_;
        const auto now = Clock::now();
        if (last_overload_log_ != Clock::time_point{} && now - last_overload_log_ < kOverloadLogInterval)
            return;
        server.log(sdk::LogLevel::warning,
                   "overloaded: " + std::to_string(threads_) + " handler thread(s) busy and max_queued (" +
                       std::to_string(max_queued_) + ") jobs waiting; " + std::string(what) + " (" +
                       std::to_string(refused_) + " refused since the last report)");
        last_overload_log_ = now;
        refused_ = 0;
    }

    /// Reads and drops what a lingering connection sends (loop thread);
    /// false once it is done (EOF or error).
    static bool drain(Connection& c) {
        char scratch[4096];
        for (int i = 0; i < 16; ++i) {
            ssize_t n = ::recv(c.request.connection.get(), scratch, sizeof scratch, MSG_DONTWAIT);
            if (n > 0) continue;
            if (n < 0 && errno == EINTR) continue;
            return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
        }
        return true;
    }

    /// True when the parked connection's peer has sent something (or closed).
    static bool has_input(const Connection& c) {
        char byte;
        ssize_t n = ::recv(c.request.connection.get(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        return n > 0;
    }

    // --- under mutex_ --------------------------------------------------------

    void enqueue(Connection& c, Action action) {
        c.state = State::queued;
        c.action = action;
        queue_.push_back(Job{&c, {}});
    }

    std::unique_ptr<Connection> erase(std::unordered_map<std::uint64_t, std::unique_ptr<Connection>>::iterator it) {
        std::unique_ptr<Connection> c = std::move(it->second);
        conns_.erase(it);
        live_.store(conns_.size(), std::memory_order_relaxed);
        if (c->registered) ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, c->request.connection.get(), nullptr);
        c->registered = false;
        return c;   // destroyed (socket closed) by the caller, outside the lock
    }

    /// Waits in epoll for the connection's next bytes (EPOLLONESHOT: one
    /// wake-up, then it is ours again). False when it cannot be parked.
    bool park(Connection& c, Clock::time_point deadline) {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
        ev.data.u64 = c.id;
        const int op = c.registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
        if (::epoll_ctl(epoll_.get(), op, c.request.connection.get(), &ev) < 0) return false;
        c.registered = true;
        c.state = State::parked;
        c.deadline = deadline;
        return true;
    }

    // --- pool threads --------------------------------------------------------

    void work() {
        for (;;) {
            Job job;
            {
                std::unique_lock lock(mutex_);
                work_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
                if (queue_.empty()) return;   // stopping, nothing left
                job = std::move(queue_.front());
                queue_.pop_front();
                ++running_;
                if (job.connection) job.connection->state = State::running;
            }
            if (job.connection) run(*job.connection);
            else server_->process_request_inline(job.datagram);
            bool done;
            {
                std::lock_guard lock(mutex_);
                --running_;
                done = closing_ && running_ == 0 && conns_.empty();
            }
            if (done) idle_cv_.notify_all();
        }
    }

    /// One turn of a connection on a pool thread: serve, then park or close.
    void run(Connection& c) {
        sdk::BaseRequestHandler& handler = *c.handler;
        std::exception_ptr error;
        bool keep = false;
        Clock::time_point deadline{};
        try {
            if (!c.started) {
                c.started = true;
                handler.setup();
                c.resumable = sdk::resumable(handler);
                c.stream = dynamic_cast<sdk::StreamRequestHandler*>(&handler);
            }
            switch (c.action) {
                case Action::resume:
                    if (c.resumable) keep = c.resumable->handle_ready() == sdk::Resume::park;
                    else handler.handle();   // a plain handler: run to completion
                    break;
                case Action::time_out:
                    if (c.resumable) c.resumable->handle_idle_timeout();
                    break;
                case Action::close:
                    break;
            }
            if (keep) {
                deadline = c.resumable->idle_deadline();
                // An idle connection keeps no buffers (a few KiB each).
                if (c.stream) c.stream->release_buffers();
            }
        } catch (...) {
            error = std::current_exception();
            keep = false;
        }
        if (keep) {
            std::lock_guard lock(mutex_);
            if (!closing_ && park(c, deadline)) return;
        }
        // The end of the connection: finish() once, then close (as
        // sdk::run_handler, the first exception is the one logged).
        try {
            handler.finish();
        } catch (...) {
            if (!error) error = std::current_exception();
        }
        if (error) server_->handle_error(c.request, error);
        std::unique_ptr<Connection> mine;
        {
            std::lock_guard lock(mutex_);
            auto it = conns_.find(c.id);
            if (it != conns_.end()) mine = erase(it);
        }
        try {
            server_->shutdown_request(c.request);
        } catch (...) {
            server_->handle_error(c.request, std::current_exception());
        }
        mine.reset();   // the handler is destroyed outside the lock
    }

    const std::size_t threads_;
    const std::size_t max_queued_;
    const bool block_on_close_;

    BaseServer* server_ = nullptr;    // set by start(), before the pool exists
    UniqueFd epoll_;
    std::vector<std::thread> pool_;

    std::mutex mutex_;
    std::condition_variable work_cv_;   // pool threads: a job, or stop_
    std::condition_variable idle_cv_;   // server_close: everything finished
    std::deque<Job> queue_;
    std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> conns_;
    std::uint64_t next_id_ = 1;
    std::size_t running_ = 0;           // jobs on pool threads
    bool closing_ = false;              // server_close began: nothing parks any more
    bool stop_ = false;                 // pool threads leave once the queue is empty
    std::atomic<std::size_t> live_{0};  // conns_.size(), for poll_timeout_ms

    // Loop thread only.
    Clock::time_point next_scan_{};
    Clock::time_point last_overload_log_{};
    std::size_t refused_ = 0;
};

}  // namespace

std::unique_ptr<ConcurrencyModel> make_event_model(const ServerConfig& config) {
    return std::make_unique<EventModel>(config);
}

}  // namespace sockhost::host
