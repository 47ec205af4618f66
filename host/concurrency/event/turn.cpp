// SPDX-License-Identifier: MIT
// One turn of a connection on a pool thread: serve what is ready, then park
// it (waiting for input), wait for it to drain its output (writing), or
// finish and close it.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <exception>

#include <sockhost/sdk/stream_request_handler.hpp>

#include "host/concurrency/event/event_model.hpp"

namespace sockhost::host::event {

/// What a turn came to.
struct EventModel::Turn {
    bool keep = false;                 // park the connection for more input
    bool abandon = false;              // close without sending what is still queued
    Clock::time_point deadline{};      // ... until then (keep)
    std::exception_ptr error;          // the first exception (logged at the close)

    /// Output queued for a slow reader that is still to be sent.
    bool sending(const Connection& c) const { return !error && !abandon && c.stream->pending(); }
};

std::unique_ptr<Connection> EventModel::make_connection(PendingRequest& request) {
    // The handler is bound to a DeferringSocketStream over the (non-blocking)
    // socket. A handler that does not read through it (not a
    // StreamRequestHandler: it uses request().fd) gets its socket back
    // blocking, as the other models give it.
    const int fd = request.connection.get();
    auto stream = std::make_unique<DeferringSocketStream>(fd, std::chrono::milliseconds{0});
    DeferringSocketStream* raw = stream.get();
    request.stream = std::move(stream);
    auto c = std::make_unique<Connection>();
    c->handler = server_->make_handler(request);
    c->socket = std::move(request.connection);
    c->stream.reset(raw);
    request.stream.release();
    if (dynamic_cast<sdk::StreamRequestHandler*>(c->handler.get()) == nullptr) {
        const int flags = ::fcntl(fd, F_GETFL);
        if (flags >= 0 && (flags & O_NONBLOCK)) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    }
    return c;
}

void EventModel::run(Connection& c) {
    // Counted in running_ by the caller; uncounted in the critical section
    // that parks it (park, wait_writable) or takes it out (close).
    HostStream::Current current(c.stream.get());   // the access log's answers
    Turn t = serve(c);
    for (;;) {
        // Output queued for a slow reader: the socket is waited for in the
        // epoll set, not on this thread.
        if (t.sending(c)) {
            c.close_after_write = !t.keep;
            if (wait_writable(c)) return;   // from here another thread may own `c`
            t.keep = false;                 // it cannot be armed: close it
            t.abandon = true;
        }
        if (t.keep && park(c, t.deadline)) return;   // from here another thread may own `c`
        if (c.finished) break;
        finish(c, t);   // what finish() writes may be queued too: round again
    }
    close(c, t);
}

EventModel::Turn EventModel::serve(Connection& c) {
    sdk::BaseRequestHandler& handler = *c.handler;
    Turn t;
    c.reads_before_turn = c.stream->reads();
    try {
        if (!c.started) {
            c.started = true;
            handler.setup();
        }
        switch (c.action) {
            case Action::write:
                t.keep = !c.close_after_write;
                // All out: serve what arrived meanwhile (a pipelined request
                // waits for the answer before it).
                if (!c.stream->flush_pending() || !t.keep) break;
                [[fallthrough]];
            case Action::resume:
                // A handler written as Python's runs to completion here.
                t.keep = handler.handle_ready() == sdk::Resume::park;
                break;
            case Action::time_out:
                handler.handle_idle_timeout();
                break;
            case Action::close:
                break;
            case Action::abort:
                t.abandon = true;
                break;
        }
        if (t.keep) {
            t.deadline = handler.idle_deadline();
            handler.release_idle_memory();   // an idle connection keeps no buffers
        }
    } catch (...) {
        t.error = std::current_exception();
        t.keep = false;
    }
    return t;
}

bool EventModel::park(Connection& c, Clock::time_point deadline) {
    if (!arm_edge(c)) return false;
    // Edge-triggered: bytes already in the socket when it parks would never
    // wake it. Bytes that arrive after the handler's last read do (or mark it
    // pending); so it parks only when that last read came back short.
    const bool more_input = c.stream->may_have_more();
    const bool short_of_eof = !c.stream->saw_eof() && c.stream->reads() != c.reads_before_turn;
    std::lock_guard lock(mutex_);
    // The server is closing: nothing parks but a connection still owed an
    // answer (one waiting for its first request).
    if (closing_ && c.handler->between_requests()) return false;
    requeue_if_ready(c, c.park(State::parked, deadline, more_input, short_of_eof));
    --running_;
    return true;
}

bool EventModel::wait_writable(Connection& c) {
    // Until the socket is writable (edge-triggered EPOLLOUT), for at most the
    // stream's send timeout.
    epoll_event ev{};
    ev.events = EPOLLOUT | EPOLLET;
    ev.data.u64 = c.id;
    const int op = c.registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (::epoll_ctl(epoll_.get(), op, c.socket.get(), &ev) < 0) return false;
    c.registered = true;
    c.edge = false;   // arm_edge() arms it for input again once the queue is out
    const auto timeout = c.stream->timeout();
    const auto deadline = timeout.count() > 0 ? Clock::now() + timeout : Clock::time_point::max();
    std::lock_guard lock(mutex_);
    requeue_if_ready(c, c.park(State::writing, deadline, false, false));
    --running_;
    return true;
}

void EventModel::finish(Connection& c, Turn& t) {
    // finish() once (as sdk::run_handler, the first exception is the one logged).
    c.finished = true;
    t.keep = false;
    try {
        c.handler->finish();
    } catch (...) {
        if (!t.error) t.error = std::current_exception();
    }
}

void EventModel::close(Connection& c, const Turn& t) {
    // The base server's hooks take the request as it was accepted.
    PendingRequest request;
    request.connection = std::move(c.socket);
    request.client = c.handler->peer_address();
    if (t.error) server_->handle_error(request, t.error);
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
    // Out of conns_: an event still queued for its id is ignored, and closing
    // the socket takes it out of the epoll set (no EPOLL_CTL_DEL).
    const int fd = request.connection.get();
    bool still_sending = false;
    try {
        if (t.abandon || c.stream->send_failed()) {
            // Its reader stalled past the send timeout, or the send failed:
            // a RST, not a FIN behind megabytes it will never read.
            unregister(c, fd);
            server_->abort_request(request);
        } else if (closing || !mine) {
            unregister(c, fd);
            server_->shutdown_request(request);   // lingers here (shutdown: nothing parks)
        } else {
            still_sending = server_->begin_shutdown(request);   // closed here unless still sending
        }
    } catch (...) {
        server_->handle_error(request, std::current_exception());
    }
    if (mine) mine->handler.reset();   // destroyed outside the lock
    if (still_sending) {
        // A request body nobody read, say: a lingering close on the loop
        // thread, so this thread is free at once.
        unregister(c, fd);
        lingerer_.add(std::move(request.connection));
    }
    mine.reset();
    if (done) idle_cv_.notify_all();
}

bool EventModel::arm_edge(Connection& c) {
    // After its first turn a connection stays in the epoll set
    // edge-triggered for good: parking it again costs no system call. Its
    // thread owns it (state running) while this runs, so an event that fires
    // at once only marks it pending.
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

void EventModel::unregister(Connection& c, int fd) {
    // Out of the epoll set before its socket `fd` may outlive the close (a
    // lingering close, an overridden shutdown_request). A plain close needs
    // none: the kernel drops a closed socket from the set.
    if (c.registered) ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
    c.registered = false;
}

}  // namespace sockhost::host::event
