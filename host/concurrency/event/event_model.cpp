// SPDX-License-Identifier: MIT
// The event model (concurrency = "event"), Apache's event MPM idea done
// with leader/followers: every connection lives in one epoll set, and the
// pool threads themselves wait in epoll_wait, so a thread that sees
// connections become readable serves them: no hand-off to another thread,
// no context switch and no epoll_wait per request. An idle keep-alive
// connection waits in epoll instead of on a thread.
//
//   pool threads (`threads` of them), each: epoll_wait (up to 64 events);
//   the connections among them go to a shared ready list (a waiting thread
//   is woken to share them), taken oldest first, one turn at a time, by
//   every thread until it is empty; the other events:
//     the server socket  stream: accept up to 16 connections, running each
//                        one's first turn here and now; datagrams: receive and
//                        answer up to 64 (EPOLLEXCLUSIVE: one waiting thread
//                        per wake-up)
//     a connection       setup() once, then handle_ready() (a
//                        sdk::ResumableHandler) or handle() (any other handler,
//                        run to completion), then park it again or finish() +
//                        close it
//     the job eventfd    one job from the queue: a parked connection to time
//                        out or close at shutdown (or a datagram the loop
//                        received)
//   loop thread (BaseServer::serve_forever):
//     process_request    only while every pool thread is busy (takes_socket()
//                        false, looked at every 50 ms): the loop accepts, the
//                        connection enters the epoll set armed for EPOLLOUT (a
//                        fresh socket is writable, so the next free thread
//                        takes it), or gets the overload answer when
//                        max_queued are already waiting
//     service_actions    every 250 ms, parked connections past their idle
//                        deadline -> the job queue; drains refused (lingering)
//                        connections from its own small epoll set; resumes the
//                        pool's accepting after a pause for EMFILE
//
// A new connection is armed EPOLLONESHOT, so its first readiness goes to
// exactly one thread; after its first turn it stays registered
// edge-triggered, so parking it again costs no system call. An event for a
// connection that is already running only marks it pending, and its thread
// serves it again before parking. A connection is in one state at a time,
// changed only under mutex_ (never held across a system call on the hot
// path), and is touched only by the one thread that state belongs to:
//
//   accepted by a pool thread -> running (that thread) -> parked (epoll) -> running ...
//   fresh (epoll, accepted by the loop) -> running
//   parked -> queued (job queue: time out / close) -> running
//   running -> closed (finish() ran exactly once, then erased)
//   lingering (loop thread): refused with 503, draining input until EOF or 2 s
//
// Without serve_forever (one handle_request()) the loop accepts and
// receives: connections as "fresh", datagrams through the job queue (at
// most max_queued wait, the rest are dropped and logged, rate-limited).
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <vector>

#include <sockhost/sdk/stream_request_handler.hpp>

#include "host/concurrency/concurrency.hpp"
#include "host/posix/unique_fd.hpp"
#include "host/servers/base_server.hpp"
#include "host/streams/socket_stream.hpp"

namespace sockhost::host {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

/// How often parked connections are checked against their idle deadline.
constexpr auto kScanInterval = 250ms;
/// At most one overload log line per this interval.
constexpr auto kOverloadLogInterval = 5s;

/// The overload answer for plugins that declare Protocol::http (RFC 9110
/// 15.6.4; 10.2.3 Retry-After).
constexpr std::string_view kServiceUnavailable =
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 20\r\n"
    "Retry-After: 1\r\n"
    "Connection: close\r\n"
    "\r\n"
    "server overloaded.\r\n";

/// What a pool thread does with a connection it takes.
enum class Action {
    resume,      // run it: setup (first time), then handle_ready()
    write,       // writable again: send the queued output, then go on
    time_out,    // idle past its deadline: handle_idle_timeout(), finish, close
    close,       // the server is closing: finish, close
    abort,       // a reader too slow for the send timeout: finish, close, drop the queue
};

// parked: waits for input; writing: waits to send queued output (a slow reader).
enum class State { fresh, queued, running, parked, writing, lingering };

/// epoll keys below kFirstId are not connections.
constexpr std::uint64_t kJobsKey = 0;   // the job queue's eventfd
constexpr std::uint64_t kStopKey = 1;   // the stop eventfd (level-triggered: wakes every thread)
constexpr std::uint64_t kSocketKey = 2; // the server's socket (EPOLLEXCLUSIVE): accept / receive
constexpr std::uint64_t kWakeKey = 3;   // the wake eventfd (edge-triggered): ready_ has work to share
constexpr std::uint64_t kFirstId = 4;

/// Connections a thread woken by the listening socket accepts in a row
/// (fewer when fewer wait): under a stream of new connections (clients
/// that close after each request) one wake-up, not one per connection.
constexpr int kAcceptsPerWake = 16;

/// Events one epoll_wait returns at most. One call for many ready
/// connections (as a single-threaded epoll server does), instead of one
/// call per request; the connections go to a list every pool thread takes
/// from, so none waits behind a long turn while another thread is free.
constexpr int kEventsPerWait = 64;

/// Datagrams one thread receives and answers in a row before it looks at
/// epoll again.
constexpr int kDatagramsPerTurn = 64;

/// Set on the pool's threads: a datagram they received is answered inline,
/// a connection they accepted is served at once.
thread_local bool tls_pool_thread = false;
/// Set while a pool thread is inside an accept (release_socket waits for it).
thread_local bool tls_accepting = false;

/// How long the pool stops accepting after running out of descriptors.
constexpr auto kAcceptPause = std::chrono::milliseconds(100);
/// While the pool accepts, the loop looks this often whether every thread is
/// busy (then it accepts instead, and the overload policy applies).
constexpr int kSaturationCheckMs = 50;

/// One per connection, parked ones included: kept small (the client's
/// address lives in the handler; the socket is all the model needs).
struct Connection {
    std::uint64_t id = 0;                               // the epoll key
    UniqueFd socket;                                    // the accepted connection
    std::unique_ptr<sdk::ByteStream> stream;            // a DeferringSocketStream over it
    std::unique_ptr<sdk::BaseRequestHandler> handler;
    DeferringSocketStream* out = nullptr;               // = stream
    State state = State::fresh;
    Action action = Action::resume;
    bool started = false;                               // setup() has run
    bool finished = false;                              // finish() has run
    bool close_after_write = false;                     // writing: then finish and close
    bool registered = false;                            // in the (pool's) epoll set
    bool edge = false;                                  // registered edge-triggered (after its first park)
    bool pending = false;                               // became readable while running: serve again
    Clock::time_point deadline{};                       // parked / lingering until
};

/// A queued job: a connection (time out / close / resume at shutdown), or a
/// datagram to answer.
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
        signal(stop_efd_);
        // Threads still busy here were given up at the shutdown deadline; the
        // host exits without returning through them (as ThreadingMixIn).
        for (auto& t : pool_)
            if (t.joinable()) idle ? t.join() : t.detach();
    }

    std::string_view name() const override { return "event"; }

    void serve_started(BaseServer& server) override {
        start(server);
        // The pool takes the socket itself: each wake-up goes to one waiting
        // thread (EPOLLEXCLUSIVE). A datagram is answered by the thread that
        // received it; a connection is accepted and served (its first turn)
        // by the thread that accepted it: no queue, no hand-off.
        stream_socket_ = server.transport() == sdk::Transport::stream;
        // Connections come non-blocking: their DeferringSocketStream waits
        // with poll(), and queues instead of waiting when deferral is on.
        if (stream_socket_) server.accept_nonblocking();
        if (add_socket()) takes_socket_ = true;
    }

    bool takes_socket() const override {
        if (!takes_socket_) return false;
        if (!stream_socket_) return true;
        // Every thread busy (or out of descriptors): the loop accepts, so new
        // connections wait for a first turn and max_queued can refuse them.
        return !accept_paused_.load(std::memory_order_relaxed) &&
               running_.load(std::memory_order_relaxed) < threads_;
    }

    void release_socket(BaseServer& server) override {
        if (!takes_socket_) return;
        takes_socket_ = false;
        socket_released_.store(true);
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, server.fileno(), nullptr);
        // A thread already woken may still be inside accept on it.
        for (int i = 0; i < 2000 && accepting_.load() > 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }

    void process_request(BaseServer& server, PendingRequest& request) override {
        start(server);
        if (!request.connection) {
            if (tls_pool_thread) server.process_request_inline(request);   // received by the pool
            else queue_datagram(server, request);
            return;
        }
        if (tls_pool_thread) {
            serve_accepted(server, request);   // accepted by this pool thread
            return;
        }
        // Made here, on the loop thread; setup() and everything after run
        // on the pool.
        auto c = make_connection(server, request);
        Connection* fresh = nullptr;
        {
            std::lock_guard lock(mutex_);
            if (waiting_ + queue_.size() < max_queued_) {
                c->id = next_id_++;
                c->registered = true;
                fresh = c.get();
                conns_.emplace(c->id, std::move(c));
                ++waiting_;
                live_.store(conns_.size(), std::memory_order_relaxed);
            }
        }
        if (fresh) {
            // A fresh socket is writable: armed for EPOLLOUT it is ready at
            // once, and the first free pool thread takes it (setup() and its
            // first turn; a handler may speak first). Nothing else touches a
            // fresh connection, so this needs no lock.
            epoll_event ev{};
            ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLONESHOT;
            ev.data.u64 = fresh->id;
            if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fresh->socket.get(), &ev) == 0) return;
            // No room in the epoll set (ENOMEM): closed like an overload.
            std::lock_guard lock(mutex_);
            c = take(conns_.find(fresh->id));
            --waiting_;
            c->registered = false;
        }
        refuse(std::move(c));
    }

    void service_actions(BaseServer&) override {
        if (!epoll_) return;
        const auto now = Clock::now();
        if (accept_paused_.load() && now >= accept_resume_.load() && takes_socket_ && add_socket())
            accept_paused_.store(false);
        std::vector<std::unique_ptr<Connection>> closed;   // closed after the lock
        std::size_t queued = 0;
        epoll_event events[64];
        const int n = lingering_ > 0 ? ::epoll_wait(linger_epoll_.get(), events, 64, 0) : 0;
        {
            std::lock_guard lock(mutex_);
            // Deadlines: a connection that trickles bytes (slowloris) is woken
            // by each one, and must still time out.
            if (now >= next_scan_) {
                next_scan_ = now + kScanInterval;
                for (auto it = conns_.begin(); it != conns_.end();) {
                    Connection& c = *it->second;
                    if (c.state == State::parked && c.deadline <= now) {
                        enqueue(c, Action::time_out);
                        ++queued;
                    } else if (c.state == State::writing && c.deadline <= now) {
                        enqueue(c, Action::abort);   // the reader took longer than the send timeout
                        ++queued;
                    } else if (c.state == State::lingering && c.deadline <= now) {
                        closed.push_back(erase_lingering(it++));
                        continue;
                    }
                    ++it;
                }
            }
            for (int i = 0; i < n; ++i) {
                auto it = conns_.find(events[i].data.u64);
                if (it == conns_.end() || it->second->state != State::lingering) continue;   // closed since
                if (!drain(*it->second)) closed.push_back(erase_lingering(it));
            }
        }
        if (queued > 0) signal(jobs_efd_);
    }

    void wait_fds(std::vector<int>& fds) const override {
        if (linger_epoll_) fds.push_back(linger_epoll_.get());
    }

    int poll_timeout_ms() const override {
        // The pool accepting: look at its saturation (and an accept pause).
        if (takes_socket_ && stream_socket_) return kSaturationCheckMs;
        // Parked connections need their idle deadlines checked.
        return live_.load(std::memory_order_relaxed) > 0
                   ? static_cast<int>(std::chrono::milliseconds(kScanInterval).count())
                   : -1;
    }

    std::size_t server_close(BaseServer& server, Clock::time_point deadline) override {
        if (pool_.empty()) return 0;
        release_socket(server);
        std::vector<std::unique_ptr<Connection>> closed;
        std::unique_lock lock(mutex_);
        closing_ = true;
        for (auto it = conns_.begin(); it != conns_.end();) {
            Connection& c = *it->second;
            if (c.state == State::lingering) {
                closed.push_back(erase_lingering(it++));
                continue;
            }
            // A parked connection whose next request has already arrived is
            // served (with Connection: close); an idle one is just closed.
            // Fresh ones are taken by the pool as usual.
            if (c.state == State::parked) enqueue(c, has_input(c) ? Action::resume : Action::close);
            ++it;
        }
        if (!queue_.empty()) signal(jobs_efd_);
        if (block_on_close_) {
            // Datagrams answered inline are counted without the lock (and
            // without a notification): look again every few milliseconds.
            auto idle = [&] { return conns_.empty() && running_ == 0 && receiving_.load() == 0; };
            while (!idle() && Clock::now() < deadline)
                idle_cv_.wait_until(lock, std::min(deadline, Clock::now() + 20ms), idle);
        }
        const std::size_t still = conns_.size() + running_ + receiving_.load();
        stop_ = true;
        lock.unlock();
        signal(stop_efd_);
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

    static void signal(const UniqueFd& efd) {
        if (!efd) return;
        const std::uint64_t one = 1;
        [[maybe_unused]] auto r = ::write(efd.get(), &one, sizeof one);
    }

    /// On the first request (on the loop thread): the epoll sets, the
    /// eventfds and the pool. Not in the constructor: worker processes fork
    /// after the servers are made, and neither threads nor an epoll set
    /// survive a fork.
    void start(BaseServer& server) {
        if (server_ != nullptr) return;
        auto fail = [](const char* what) { throw std::system_error(errno, std::generic_category(), what); };
        epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
        linger_epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
        if (!epoll_ || !linger_epoll_) fail("epoll_create1");
        jobs_efd_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
        stop_efd_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
        wake_efd_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
        if (!jobs_efd_ || !stop_efd_ || !wake_efd_) fail("eventfd");
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLONESHOT;
        ev.data.u64 = kJobsKey;
        if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, jobs_efd_.get(), &ev) < 0) fail("epoll_ctl");
        ev.events = EPOLLIN;
        ev.data.u64 = kStopKey;
        if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, stop_efd_.get(), &ev) < 0) fail("epoll_ctl");
        ev.events = EPOLLIN | EPOLLET;   // each write wakes one waiting thread
        ev.data.u64 = kWakeKey;
        if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_efd_.get(), &ev) < 0) fail("epoll_ctl");
        server_ = &server;
        pool_.reserve(threads_);
        for (std::size_t i = 0; i < threads_; ++i)
            pool_.emplace_back([this] {
                tls_pool_thread = true;
                work();
            });
    }

    /// The server socket into the pool's epoll set; false when it fails.
    bool add_socket() {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLEXCLUSIVE;
        ev.data.u64 = kSocketKey;
        return ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, server_->fileno(), &ev) == 0;
    }

    /// A pool thread woken by the listening socket: accepts up to
    /// kAcceptsPerWake connections (as many as are waiting), each served
    /// here at once (serve_accepted); other free threads take more.
    void accept_some() {
        for (int i = 0; i < kAcceptsPerWake; ++i) {
            // Counted before looking at the flag: release_socket() either sees
            // this thread accepting (and waits) or this thread sees the flag.
            ++accepting_;
            if (socket_released_.load()) {
                --accepting_;
                return;
            }
            tls_accepting = true;
            bool exhausted = false;
            const bool took = server_->take_ready_request(&exhausted);
            if (tls_accepting) {   // nothing accepted (serve_accepted clears it)
                tls_accepting = false;
                --accepting_;
            }
            if (exhausted) pause_accept();
            if (!took) return;   // none waiting (or paused)
        }
    }

    /// Out of descriptors: stop the pool accepting for a while (the socket
    /// stays readable, so it would spin) and say so, at most every 10 s.
    void pause_accept() {
        accept_resume_.store(Clock::now() + kAcceptPause);
        if (!accept_paused_.exchange(true))
            ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, server_->fileno(), nullptr);
        std::lock_guard lock(mutex_);
        const auto now = Clock::now();
        if (now - last_exhausted_log_ < std::chrono::seconds(10)) return;
        last_exhausted_log_ = now;
        server_->log(sdk::LogLevel::error, "accept: " + std::string(std::strerror(EMFILE)) +
                                               " (or another resource limit); pausing accept for 100 ms");
    }

    /// A connection this pool thread just accepted: its first turn runs here
    /// and now; it enters the epoll set only if it parks.
    void serve_accepted(BaseServer& server, PendingRequest& request) {
        if (tls_accepting) {
            tls_accepting = false;
            --accepting_;   // out of accept: the socket may close now
        }
        auto c = make_connection(server, request);
        c->state = State::running;
        Connection& mine = *c;
        {
            std::lock_guard lock(mutex_);
            mine.id = next_id_++;
            conns_.emplace(mine.id, std::move(c));
            live_.store(conns_.size(), std::memory_order_relaxed);
            ++running_;
        }
        run(mine);
    }

    void queue_datagram(BaseServer& server, PendingRequest& request) {
        bool queued = false;
        {
            std::lock_guard lock(mutex_);
            if (queue_.size() < max_queued_) {
                queue_.push_back(Job{nullptr, std::move(request)});
                jobs_.store(queue_.size(), std::memory_order_relaxed);
                queued = true;
            }
        }
        if (queued) signal(jobs_efd_);
        else note_overload(server, "dropping datagrams");
    }

    /// The overload policy (loop thread): an HTTP plugin's client gets a
    /// canned 503 and the connection is drained for a while; a raw stream is
    /// closed at once.
    void refuse(std::unique_ptr<Connection> c) {
        const bool http = server_->protocol() == sdk::Protocol::http;
        note_overload(*server_, http ? "answering new HTTP connections 503" : "closing new connections");
        if (!http) return;   // the socket closes with `c`
        const int fd = c->socket.get();
        // A fresh socket's send buffer is empty: this never blocks.
        [[maybe_unused]] auto sent =
            ::send(fd, kServiceUnavailable.data(), kServiceUnavailable.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        ::shutdown(fd, SHUT_WR);
        c->handler.reset();   // refused before setup(): the handler never ran
        // Drained by the loop thread (the pool may be what is overloaded).
        linger_later(std::move(c));
    }

    /// A connection whose write side is shut and whose client is still
    /// sending: the loop thread drops what arrives until the client closes
    /// (or BaseServer::lingering_time passes), then closes it. No thread
    /// waits for it. `c` has no handler and is not in the pool's epoll set.
    void linger_later(std::unique_ptr<Connection> c) {
        const int fd = c->socket.get();
        c->state = State::lingering;
        c->deadline = Clock::now() + BaseServer::lingering_time;
        std::lock_guard lock(mutex_);
        c->id = next_id_++;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.u64 = c->id;
        if (::epoll_ctl(linger_epoll_.get(), EPOLL_CTL_ADD, fd, &ev) < 0) return;   // closes now
        ++lingering_;
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
                       std::to_string(max_queued_) + ") connections waiting; " + std::string(what) + " (" +
                       std::to_string(refused_) + " refused since the last report)");
        last_overload_log_ = now;
        refused_ = 0;
    }

    /// Reads and drops what a lingering connection sends (loop thread);
    /// false once it is done (EOF or error).
    static bool drain(Connection& c) {
        char scratch[4096];
        for (int i = 0; i < 16; ++i) {
            ssize_t n = ::recv(c.socket.get(), scratch, sizeof scratch, MSG_DONTWAIT);
            if (n > 0) continue;
            if (n < 0 && errno == EINTR) continue;
            return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
        }
        return true;
    }

    /// What a read of the connection would find now, without taking it:
    /// bytes (> 0), end of stream (0), nothing yet or an error (< 0, errno).
    static ssize_t peek(const Connection& c) {
        char byte;
        return ::recv(c.socket.get(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    }

    /// True when the parked connection's peer has sent something.
    static bool has_input(const Connection& c) { return peek(c) > 0; }

    // --- under mutex_ --------------------------------------------------------

    void enqueue(Connection& c, Action action) {
        c.state = State::queued;
        c.action = action;
        queue_.push_back(Job{&c, {}});
        jobs_.store(queue_.size(), std::memory_order_relaxed);
    }

    using ConnMap = std::unordered_map<std::uint64_t, std::unique_ptr<Connection>>;

    /// Out of conns_: no event for its id is acted on any more. Still in the
    /// pool's epoll set if it was (unregister() before its socket closes).
    std::unique_ptr<Connection> take(ConnMap::iterator it) {
        std::unique_ptr<Connection> c = std::move(it->second);
        conns_.erase(it);
        live_.store(conns_.size(), std::memory_order_relaxed);
        return c;
    }

    /// A refused connection done lingering: out of conns_ and the loop's
    /// epoll set; destroyed (socket closed) by the caller, outside the lock.
    std::unique_ptr<Connection> erase_lingering(ConnMap::iterator it) {
        std::unique_ptr<Connection> c = take(it);
        ::epoll_ctl(linger_epoll_.get(), EPOLL_CTL_DEL, c->socket.get(), nullptr);
        --lingering_;
        return c;
    }

    /// Removes a connection no longer in conns_ from the epoll set: before it
    /// moves to the lingering set, or when its socket may outlive the close
    /// (shutdown_request may be overridden). A plain close needs none: the
    /// kernel drops a closed socket from the set, and an event already
    /// queued for its id finds nothing in conns_. Without the lock.
    void unregister(Connection& c, int fd) {
        if (c.registered) ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
        c.registered = false;
    }

    /// After its first turn a connection stays in the epoll set
    /// edge-triggered for good: parking it again costs no system call. Its
    /// thread owns it (state running) while this runs, so an event that
    /// fires at once only marks it pending. False when it cannot be armed.
    bool arm_edge(Connection& c) {
        if (c.edge) return true;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
        ev.data.u64 = c.id;
        // Accepted by a pool thread: not in the set yet.
        const int op = c.registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
        if (::epoll_ctl(epoll_.get(), op, c.socket.get(), &ev) < 0) return false;
        c.registered = true;
        c.edge = true;
        return true;
    }

    // --- pool threads --------------------------------------------------------

    void work() {
        epoll_event events[kEventsPerWait];
        for (;;) {
            // Jobs first: a thread that just finished one looks for the next
            // without a trip through epoll. Then connections another thread's
            // epoll_wait reported.
            if (jobs_.load(std::memory_order_relaxed) > 0 && take_job()) continue;
            if (ready_count_.load() > 0 && take_ready()) continue;
            // Counted before looking at ready_ once more: a thread that shares
            // events either sees this one waiting (and wakes it) or this one
            // sees its events.
            in_epoll_.fetch_add(1);
            if (ready_count_.load() > 0) {
                in_epoll_.fetch_sub(1);
                continue;
            }
            const int n = ::epoll_wait(epoll_.get(), events, kEventsPerWait, -1);
            in_epoll_.fetch_sub(1);
            if (n <= 0) continue;   // EINTR
            // Connections first into the shared ready list, so another thread
            // can start on them while this one accepts or runs a job.
            share_ready(events, n);
            for (int i = 0; i < n; ++i) {
                switch (events[i].data.u64) {
                    case kStopKey: {
                        std::lock_guard lock(mutex_);
                        if (stop_ && queue_.empty()) return;
                        break;   // jobs left: the top of the loop takes them
                    }
                    case kSocketKey:
                        if (stream_socket_) accept_some();
                        else receive_datagrams();
                        break;
                    case kJobsKey: {
                        std::uint64_t count;
                        [[maybe_unused]] auto r = ::read(jobs_efd_.get(), &count, sizeof count);
                        epoll_event again{};
                        again.events = EPOLLIN | EPOLLONESHOT;
                        again.data.u64 = kJobsKey;
                        ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, jobs_efd_.get(), &again);
                        take_job();
                        break;
                    }
                    case kWakeKey: {
                        std::uint64_t count;
                        [[maybe_unused]] auto r = ::read(wake_efd_.get(), &count, sizeof count);
                        break;   // the top of the loop takes from ready_
                    }
                    default:
                        break;   // a connection: in ready_
                }
            }
        }
    }

    /// The connections among one epoll_wait's events go to the back of the
    /// shared ready list (one lock for the batch, not one system call per
    /// event); a thread waiting in epoll is woken to share them.
    void share_ready(const epoll_event* events, int n) {
        std::size_t added = 0;
        {
            std::lock_guard lock(mutex_);
            for (int i = 0; i < n; ++i)
                if (events[i].data.u64 >= kFirstId) {
                    ready_.push_back(events[i].data.u64);
                    ++added;
                }
            if (added == 0) return;
            ready_count_.store(ready_.size() - ready_head_);
        }
        // One event: this thread takes it next anyway.
        if (added > 1 && in_epoll_.load() > 0) signal(wake_efd_);
    }

    /// Takes the oldest ready connection that is still waiting and runs its
    /// turn; false when there was none.
    bool take_ready() {
        Connection* c = nullptr;
        {
            std::lock_guard lock(mutex_);
            while (c == nullptr && ready_head_ < ready_.size()) c = claim(ready_[ready_head_++]);
            if (ready_head_ == ready_.size()) {
                ready_.clear();
                ready_head_ = 0;
            }
            ready_count_.store(ready_.size() - ready_head_);
        }
        if (c == nullptr) return false;
        run(*c);
        return true;
    }

    /// The datagram socket is readable: receive and answer on this thread
    /// until it is drained (other threads may be draining it too).
    void receive_datagrams() {
        ++receiving_;
        for (int i = 0; i < kDatagramsPerTurn; ++i)
            if (!server_->take_ready_request()) break;
        --receiving_;
    }

    /// A connection the epoll set reported ready, under mutex_: the
    /// connection to run (now counted running), or null when it is gone, a
    /// queued job owns it, or it is running (then marked pending: its thread
    /// serves it again before parking).
    Connection* claim(std::uint64_t id) {
        auto it = conns_.find(id);
        if (it == conns_.end()) return nullptr;   // closed since
        Connection* c = it->second.get();
        if (c->state == State::fresh) {
            --waiting_;
        } else if (c->state == State::running) {
            c->pending = true;
            return nullptr;
        } else if (c->state != State::parked && c->state != State::writing) {
            return nullptr;
        }
        c->action = c->state == State::writing ? Action::write : Action::resume;
        c->state = State::running;
        ++running_;
        return c;
    }

    /// Takes and runs one queued job; false when the queue was empty. Wakes
    /// another thread when more are left.
    bool take_job() {
        Job job;
        bool more;
        {
            std::lock_guard lock(mutex_);
            if (queue_.empty()) return false;
            job = std::move(queue_.front());
            queue_.pop_front();
            jobs_.store(queue_.size(), std::memory_order_relaxed);
            more = !queue_.empty();
            ++running_;
            if (job.connection) job.connection->state = State::running;
        }
        if (more) signal(jobs_efd_);
        if (job.connection) {
            run(*job.connection);
        } else {
            server_->process_request_inline(job.datagram);
            std::lock_guard lock(mutex_);
            --running_;
            if (closing_ && running_ == 0 && conns_.empty()) idle_cv_.notify_all();
        }
        return true;
    }

    /// A connection and its handler, bound to a DeferringSocketStream over
    /// the (non-blocking) socket. A handler that does not read through the
    /// stream (not a StreamRequestHandler: it uses request().fd) gets its
    /// socket back blocking, as the other models give it.
    static std::unique_ptr<Connection> make_connection(BaseServer& server, PendingRequest& request) {
        const int fd = request.connection.get();
        auto stream = std::make_unique<DeferringSocketStream>(fd, std::chrono::milliseconds{0});
        DeferringSocketStream* out = stream.get();
        request.stream = std::move(stream);
        auto c = std::make_unique<Connection>();
        c->handler = server.make_handler(request);
        c->socket = std::move(request.connection);
        c->stream = std::move(request.stream);
        c->out = out;
        if (dynamic_cast<sdk::StreamRequestHandler*>(c->handler.get()) == nullptr) {
            const int flags = ::fcntl(fd, F_GETFL);
            if (flags >= 0 && (flags & O_NONBLOCK)) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
        }
        return c;
    }

    /// Parks a connection with queued output until its socket is writable
    /// (edge-triggered EPOLLOUT), for at most the stream's send timeout; an
    /// event that came during the turn puts it on the ready list. False when
    /// it cannot be armed (close it).
    bool wait_writable(Connection& c) {
        epoll_event ev{};
        ev.events = EPOLLOUT | EPOLLET;
        ev.data.u64 = c.id;
        const int op = c.registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
        if (::epoll_ctl(epoll_.get(), op, c.socket.get(), &ev) < 0) return false;
        c.registered = true;
        c.edge = false;   // arm_edge() arms it for input again once the queue is out
        const auto timeout = c.out->timeout();
        const auto deadline = timeout.count() > 0 ? Clock::now() + timeout : Clock::time_point::max();
        std::lock_guard lock(mutex_);
        // Something fired during the turn (edge-triggered: it will not fire
        // again): its next turn comes from the ready list.
        park(c, State::writing, deadline, c.pending);
        return true;
    }

    /// Under mutex_: the turn is over, the connection waits (`state`) until
    /// `deadline`. `ready_now` when its socket may hold more (or be writable)
    /// already, so that epoll will not report it again: then it goes to the
    /// back of the ready list rather than taking another turn at once, so
    /// those already waiting go first and a client that keeps its socket
    /// full cannot keep a thread to itself.
    void park(Connection& c, State state, Clock::time_point deadline, bool ready_now) {
        c.pending = false;
        c.state = state;
        c.deadline = deadline;
        --running_;
        if (!ready_now) return;
        ready_.push_back(c.id);
        ready_count_.store(ready_.size() - ready_head_);
    }

    /// One turn of a connection on a pool thread: serve, then park or close.
    /// Counted in running_ by the caller; uncounted here, in the same
    /// critical section that parks or erases it.
    void run(Connection& c) {
        sdk::BaseRequestHandler& handler = *c.handler;
        std::exception_ptr error;
        bool keep = false;
        bool abandon = false;   // close without sending what is still queued
        Clock::time_point deadline{};
    again:
        try {
            if (!c.started) {
                c.started = true;
                handler.setup();
            }
            switch (c.action) {
                case Action::resume:
                    // A handler written as Python's runs to completion here.
                    keep = handler.handle_ready() == sdk::Resume::park;
                    break;
                case Action::write:
                    keep = !c.close_after_write;
                    if (c.out->flush_pending() && keep) {
                        // All out: serve what arrived meanwhile (a pipelined
                        // request waits for the answer before it).
                        c.action = Action::resume;
                        goto again;
                    }
                    break;
                case Action::time_out:
                    handler.handle_idle_timeout();
                    break;
                case Action::close:
                    break;
                case Action::abort:
                    abandon = true;
                    break;
            }
            if (keep) {
                deadline = handler.idle_deadline();
                // An idle connection keeps no buffers (a few KiB each).
                handler.release_idle_memory();
            }
        } catch (...) {
            error = std::current_exception();
            keep = false;
        }
        // Output queued for a slow reader: the socket is waited for in the
        // epoll set, not on this thread.
    queued:
        if (!error && !abandon && c.out && c.out->pending()) {
            c.close_after_write = !keep;
            if (wait_writable(c)) return;   // from here another thread may own `c`
            keep = false;                      // it cannot be armed: close it
            abandon = true;
        }
        if (keep && arm_edge(c)) {
            // Edge-triggered: bytes already in the socket when it parks would
            // never wake it. Bytes that arrive after the handler's last read
            // do (or mark it pending); so it parks only when that last read
            // came back short.
            const bool unread = c.out->may_have_more();
            std::unique_lock lock(mutex_);
            if (!closing_) {
                // Bytes that arrived during the turn, or behind a last read
                // that filled its buffer, get no second wake-up
                // (edge-triggered): such a connection is ready now.
                park(c, State::parked, deadline, c.pending || unread);
                return;   // from here another thread may own `c`
            }
        }
        // The end of the connection: finish() once, then close (as
        // sdk::run_handler, the first exception is the one logged).
        if (!c.finished) {
            c.finished = true;
            try {
                handler.finish();
            } catch (...) {
                if (!error) error = std::current_exception();
            }
            // What finish() wrote may be queued too: sent before closing.
            if (!error && !abandon && c.out && c.out->pending()) {
                keep = false;
                goto queued;
            }
        }
        // The base server's hooks take the request as it was accepted.
        PendingRequest request;
        request.connection = std::move(c.socket);
        request.client = handler.peer_address();
        if (error) server_->handle_error(request, error);
        std::unique_ptr<Connection> mine;
        bool done;
        bool closing;
        {
            std::lock_guard lock(mutex_);
            auto it = conns_.find(c.id);
            if (it != conns_.end()) mine = take(it);
            --running_;
            closing = closing_;
            done = closing_ && running_ == 0 && conns_.empty();
        }
        // Out of conns_: an event still queued for its id is ignored, and
        // closing the socket takes it out of the epoll set (no EPOLL_CTL_DEL).
        const int fd = request.connection.get();
        bool still_sending = false;
        try {
            if (closing || !mine) {
                unregister(c, fd);
                server_->shutdown_request(request);   // drains here (shutdown: nothing parks)
            } else {
                still_sending = server_->begin_shutdown(request);   // closed here unless still sending
            }
        } catch (...) {
            server_->handle_error(request, std::current_exception());
        }
        if (mine) mine->handler.reset();   // the handler is destroyed outside the lock
        if (still_sending) {
            // A request body nobody read, say: a lingering close on the
            // loop thread, so this thread is free at once.
            unregister(c, fd);
            mine->socket = std::move(request.connection);
            linger_later(std::move(mine));
        }
        mine.reset();
        if (done) idle_cv_.notify_all();
    }

    const std::size_t threads_;
    const std::size_t max_queued_;
    const bool block_on_close_;

    BaseServer* server_ = nullptr;    // set by start(), before the pool exists
    UniqueFd epoll_;                  // connections + the two eventfds; the pool waits here
    UniqueFd linger_epoll_;           // refused connections; the loop thread drains them
    UniqueFd jobs_efd_;               // the job queue is not empty (EPOLLONESHOT)
    UniqueFd stop_efd_;               // the pool is to leave (level-triggered)
    UniqueFd wake_efd_;               // ready_ has connections for a waiting thread
    std::vector<std::thread> pool_;

    std::mutex mutex_;
    std::condition_variable idle_cv_;   // server_close: everything finished
    std::deque<Job> queue_;
    ConnMap conns_;
    // Connection ids epoll reported, oldest first from ready_head_ (a pool
    // thread shares its epoll_wait's batch here); a stale id is skipped.
    std::vector<std::uint64_t> ready_;
    std::size_t ready_head_ = 0;
    std::atomic<std::size_t> ready_count_{0};   // ready_.size() - ready_head_, read without the lock
    std::atomic<int> in_epoll_{0};              // pool threads in (or entering) epoll_wait
    std::uint64_t next_id_ = kFirstId;
    // Turns and jobs on pool threads: changed under mutex_, also read
    // without it (takes_socket: is every thread busy?).
    std::atomic<std::size_t> running_{0};
    std::size_t waiting_ = 0;           // fresh connections not yet taken by a thread
    bool closing_ = false;              // server_close began: nothing parks any more
    bool stop_ = false;                 // pool threads leave once the queue is empty
    std::atomic<std::size_t> live_{0};  // conns_.size(), for poll_timeout_ms
    std::atomic<std::size_t> jobs_{0};  // queue_.size(), read without the lock
    std::atomic<std::size_t> lingering_{0};   // in linger_epoll_
    std::atomic<std::size_t> receiving_{0};   // threads receiving datagrams
    bool takes_socket_ = false;               // loop thread: the pool has the server socket
    bool stream_socket_ = false;              // set by serve_started, before the pool reads it
    std::atomic<int> accepting_{0};           // pool threads inside an accept
    std::atomic<bool> socket_released_{false};  // release_socket(): accept no more
    std::atomic<bool> accept_paused_{false};  // the pool ran out of descriptors
    std::atomic<Clock::time_point> accept_resume_{};
    Clock::time_point last_exhausted_log_{};  // under mutex_

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
