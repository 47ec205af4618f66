// SPDX-License-Identifier: MIT
// The event model: its interface to BaseServer, the pool threads' loop, the
// job queue, the deadline scan and the overload policy. A connection's turn
// is in turn.cpp.
//
//   pool threads (`threads`), each: epoll_wait (up to 64 events); the
//   connections among them go to the shared ready list (a waiting thread is
//   woken to share them), taken oldest first, one turn at a time, by every
//   thread until it is empty; the other events:
//     the server socket  the Acceptor: accept a run of connections (each one's
//                        first turn here and now), or receive and answer a
//                        run of datagrams
//     the job eventfd    one job: a parked connection to time out or close at
//                        shutdown, or a datagram the loop thread received
//   loop thread (BaseServer::serve_forever):
//     process_request    only while every pool thread is busy (takes_socket()
//                        false, looked at every 50 ms): the connection enters
//                        the epoll set armed for EPOLLOUT (a fresh socket is
//                        writable, so the next free thread takes it), or gets
//                        the overload answer when max_queued already wait
//     service_actions    every 250 ms, connections past their deadline -> the
//                        job queue; lingering closes; resumes accepting after
//                        an EMFILE pause
#include "host/concurrency/event/event_model.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace sockhost::host {

std::unique_ptr<ConcurrencyModel> make_event_model(const ServerConfig& config) {
    return std::make_unique<event::EventModel>(config);
}

namespace event {

namespace {

using namespace std::chrono_literals;

/// How often connections are checked against their deadlines.
constexpr auto kScanInterval = 250ms;
/// At most one overload log line per this interval.
constexpr auto kOverloadLogInterval = 5s;
/// While the pool accepts, the loop looks this often whether every thread is
/// busy (then it accepts instead, and the overload policy applies).
constexpr int kSaturationCheckMs = 50;
/// Events one epoll_wait returns at most: one call for many ready
/// connections, as a single-threaded epoll server does.
constexpr int kEventsPerWait = 64;

/// epoll keys below kFirstId are not connections.
constexpr std::uint64_t kJobsKey = 0;    // the job queue's eventfd
constexpr std::uint64_t kStopKey = 1;    // the stop eventfd (level-triggered: wakes every thread)
constexpr std::uint64_t kSocketKey = 2;  // the server's socket (the Acceptor)
constexpr std::uint64_t kWakeKey = 3;    // the wake eventfd (edge-triggered): ready_ has work to share
constexpr std::uint64_t kFirstId = 4;

/// The overload answer for plugins that declare Protocol::http (RFC 9110
/// 15.6.4; 10.2.3 Retry-After). The host writes it without the plugin.
constexpr std::string_view kServiceUnavailable =
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 20\r\n"
    "Retry-After: 1\r\n"
    "Connection: close\r\n"
    "\r\n"
    "server overloaded.\r\n";

}  // namespace

EventModel::EventModel(const ServerConfig& config)
    : threads_(config.threads > 0 ? static_cast<std::size_t>(config.threads) : default_threads()),
      max_queued_(static_cast<std::size_t>(config.max_queued)),
      block_on_close_(config.block_on_close),
      next_id_(kFirstId) {}

EventModel::~EventModel() {
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

std::size_t EventModel::default_threads() {
    const unsigned cores = std::thread::hardware_concurrency();
    return cores > 0 ? cores : 1;
}

void EventModel::signal(const sdk::posix::UniqueFd& efd) {
    if (!efd) return;
    const std::uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(efd.get(), &one, sizeof one);
}

// --- The model's interface -------------------------------------------------------

void EventModel::serve_started(RequestSink& server) {
    start(server);
    // The pool takes the socket itself: a datagram is answered by the
    // thread that received it; a connection is accepted and served (its
    // first turn) by the thread that accepted it: no queue, no hand-off.
    // Connections come non-blocking: their DeferringSocketStream waits with
    // poll(), and queues output instead of waiting.
    if (stream_) server.accept_nonblocking();
    if (acceptor_->add()) takes_socket_ = true;
}

bool EventModel::takes_socket() const {
    if (!takes_socket_) return false;
    if (!stream_) return true;
    // Every thread busy (or out of descriptors): the loop accepts, so new
    // connections wait for a first turn and max_queued can refuse them.
    return !acceptor_->paused() && running_.load(std::memory_order_relaxed) < threads_;
}

void EventModel::release_socket(RequestSink&) {
    if (!takes_socket_) return;
    takes_socket_ = false;
    acceptor_->release();
}

void EventModel::process_request(RequestSink& server, PendingRequest& request) {
    start(server);
    if (!request.connection) {
        if (Acceptor::on_pool_thread_taking()) server.process_request_inline(request);   // received by the pool
        else queue_datagram(request);
        return;
    }
    if (Acceptor::on_pool_thread_taking()) {
        serve_accepted(request);   // accepted by this pool thread
        return;
    }
    // Accepted by the loop thread (every pool thread busy): made here, its
    // setup() and everything after run on the pool.
    std::unique_ptr<Connection> c = make_connection(request);
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
        // A fresh socket is writable: armed for EPOLLOUT it is ready at once,
        // and the first free pool thread takes it (setup() and its first
        // turn; a handler may speak first). Nothing else touches a fresh
        // connection, so this needs no lock.
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

void EventModel::service_actions(RequestSink&) {
    if (!epoll_) return;
    acceptor_->resume_if_due();
    lingerer_.service();
    const auto now = Clock::now();
    if (now < next_scan_) return;
    next_scan_ = now + kScanInterval;
    // Deadlines: a connection that trickles bytes (slowloris) is woken by
    // each one, and must still time out.
    std::size_t queued = 0;
    {
        std::lock_guard lock(mutex_);
        for (auto& [id, c] : conns_) {
            if (std::optional<Action> job = c->expired(now)) {
                enqueue(*c, *job);
                ++queued;
            }
        }
    }
    if (queued > 0) signal(jobs_efd_);
}

void EventModel::wait_fds(std::vector<int>& fds) const {
    if (lingerer_.wait_fd() >= 0) fds.push_back(lingerer_.wait_fd());
}

int EventModel::poll_timeout_ms() const {
    // The pool accepting: look at its saturation (and an accept pause).
    if (takes_socket_ && stream_) return kSaturationCheckMs;
    // Connections need their deadlines checked.
    return live_.load(std::memory_order_relaxed) > 0 || !lingerer_.empty()
               ? static_cast<int>(std::chrono::milliseconds(kScanInterval).count())
               : -1;
}

std::size_t EventModel::server_close(RequestSink& server, Clock::time_point deadline) {
    if (pool_.empty()) return 0;
    release_socket(server);
    lingerer_.close_all();
    std::unique_lock lock(mutex_);
    closing_ = true;
    for (auto& [id, c] : conns_) {
        // A parked connection whose next request has already arrived is
        // served (with Connection: close); one between requests is just
        // closed; one still waiting for its first request (or in the middle
        // of one) stays, to be served when it arrives, within the deadline.
        // Fresh ones are taken by the pool as usual.
        if (c->state != State::parked) continue;
        char byte;
        const bool has_input = ::recv(c->socket.get(), &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
        if (has_input) enqueue(*c, Action::resume);
        else if (c->handler->between_requests()) enqueue(*c, Action::close);
    }
    if (!queue_.empty()) signal(jobs_efd_);
    if (block_on_close_) {
        // Datagrams answered inline are counted without the lock (and
        // without a notification): look again every few milliseconds.
        auto idle = [&] { return conns_.empty() && running_ == 0 && acceptor_->receiving() == 0; };
        while (!idle() && Clock::now() < deadline) {
            idle_cv_.wait_until(lock, std::min(deadline, Clock::now() + 20ms), idle);
            // The loop thread's deadline scan has stopped with the loop: a
            // connection left to send its first request still times out.
            std::size_t expired = 0;
            for (auto& [id, c] : conns_) {
                if (std::optional<Action> job = c->expired(Clock::now())) {
                    enqueue(*c, *job);
                    ++expired;
                }
            }
            if (expired > 0) signal(jobs_efd_);
        }
    }
    const std::size_t still = conns_.size() + running_ + acceptor_->receiving();
    stop_ = true;
    lock.unlock();
    signal(stop_efd_);
    if (still > 0) {
        server.log(sdk::LogLevel::warning,
                   std::to_string(still) + " connection(s) still being served at shutdown");
        return still;
    }
    for (auto& t : pool_) t.join();
    pool_.clear();
    return 0;
}

// --- The pool ------------------------------------------------------------------------

void EventModel::start(RequestSink& server) {
    // On the first request (on the loop thread), not in the constructor:
    // worker processes fork after the servers are made, and neither threads
    // nor an epoll set survive a fork.
    if (server_ != nullptr) return;
    auto fail = [](const char* what) { throw std::system_error(errno, std::generic_category(), what); };
    epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
    if (!epoll_) fail("epoll_create1");
    lingerer_.start();
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
    stream_ = server.transport() == sdk::Transport::stream;
    acceptor_ = std::make_unique<Acceptor>(server, epoll_.get(), kSocketKey);
    pool_.reserve(threads_);
    for (std::size_t i = 0; i < threads_; ++i) pool_.emplace_back([this] { work(); });
}

void EventModel::work() {
    epoll_event events[kEventsPerWait];
    for (;;) {
        // Jobs first: a thread that just finished one looks for the next
        // without a trip through epoll. Then connections another thread's
        // epoll_wait reported.
        if (jobs_.load(std::memory_order_relaxed) > 0 && take_job()) continue;
        if (ready_.size() > 0 && take_ready()) continue;
        // Counted before looking at the ready list once more: a thread that
        // shares events either sees this one waiting (and wakes it) or this
        // one sees its events.
        in_epoll_.fetch_add(1);
        if (ready_.size() > 0) {
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
                    acceptor_->on_ready(stream_);
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
                    break;   // the top of the loop takes from the ready list
                }
                default:
                    break;   // a connection: in the ready list
            }
        }
    }
}

void EventModel::share_ready(const epoll_event* events, int n) {
    // One lock for the batch, not one system call per event.
    std::size_t added = 0;
    {
        std::lock_guard lock(mutex_);
        for (int i = 0; i < n; ++i) {
            if (events[i].data.u64 < kFirstId) continue;
            ready_.push(events[i].data.u64);
            ++added;
            if (events[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
                auto it = conns_.find(events[i].data.u64);
                if (it != conns_.end()) it->second->hangup = true;
            }
        }
    }
    // One event: this thread takes it next anyway.
    if (added > 1 && in_epoll_.load() > 0) signal(wake_efd_);
}

bool EventModel::take_ready() {
    // The oldest ready connection still waiting; stale ids are skipped.
    Connection* c = nullptr;
    {
        std::lock_guard lock(mutex_);
        while (c == nullptr) {
            std::optional<std::uint64_t> id = ready_.pop();
            if (!id) break;
            auto it = conns_.find(*id);
            if (it == conns_.end()) continue;   // closed since
            const bool fresh = it->second->state == State::fresh;
            if (!it->second->claim()) continue;
            if (fresh) --waiting_;
            c = it->second.get();
            ++running_;
        }
    }
    if (c == nullptr) return false;
    run(*c);
    return true;
}

bool EventModel::take_job() {
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
    if (more) signal(jobs_efd_);   // another thread takes the next
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

void EventModel::queue_datagram(PendingRequest& request) {
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
    else note_overload("dropping datagrams");
}

void EventModel::serve_accepted(PendingRequest& request) {
    // A connection this pool thread just accepted: its first turn runs here
    // and now; it enters the epoll set only if it parks.
    Acceptor::accepted_here(acceptor_.get());
    std::unique_ptr<Connection> c = make_connection(request);
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

// --- Overload --------------------------------------------------------------------------

void EventModel::refuse(std::unique_ptr<Connection> c) {
    // The overload policy (loop thread): an HTTP plugin's client gets the
    // canned 503 and a lingering close; a raw stream is closed at once.
    const bool http = server_->protocol() == sdk::Protocol::http;
    note_overload(http ? "answering new HTTP connections 503" : "closing new connections");
    if (!http) return;   // the socket closes with `c`
    const int fd = c->socket.get();
    // A fresh socket's send buffer is empty: this never blocks.
    [[maybe_unused]] auto sent =
        ::send(fd, kServiceUnavailable.data(), kServiceUnavailable.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    ::shutdown(fd, SHUT_WR);
    c->handler.reset();   // refused before setup(): the handler never ran
    lingerer_.add(std::move(c->socket));
}

void EventModel::note_overload(std::string_view what) {
    // One rate-limited log line for everything refused or dropped.
    ++refused_;
    const auto now = Clock::now();
    if (last_overload_log_ != Clock::time_point{} && now - last_overload_log_ < kOverloadLogInterval) return;
    server_->log(sdk::LogLevel::warning,
                 "overloaded: " + std::to_string(threads_) + " handler thread(s) busy and max_queued (" +
                     std::to_string(max_queued_) + ") connections waiting; " + std::string(what) + " (" +
                     std::to_string(refused_) + " refused since the last report)");
    last_overload_log_ = now;
    refused_ = 0;
}

// --- Under mutex_ ----------------------------------------------------------------------

void EventModel::enqueue(Connection& c, Action action) {
    c.state = State::queued;
    c.action = action;
    queue_.push_back(Job{&c, {}});
    jobs_.store(queue_.size(), std::memory_order_relaxed);
}

std::unique_ptr<Connection> EventModel::take(ConnMap::iterator it) {
    // Out of conns_: no event for its id is acted on any more. Still in the
    // pool's epoll set if it was (unregister() before its socket outlives it).
    std::unique_ptr<Connection> c = std::move(it->second);
    conns_.erase(it);
    live_.store(conns_.size(), std::memory_order_relaxed);
    return c;
}

void EventModel::requeue_if_ready(Connection& c, bool ready) {
    // A connection whose socket may hold more (or be writable) already, so
    // that epoll will not report it again, goes to the back of the ready
    // list rather than taking another turn at once: those already waiting go
    // first, and a client that keeps its socket full cannot keep a thread.
    if (ready) ready_.push(c.id);
}

}  // namespace event
}  // namespace sockhost::host
