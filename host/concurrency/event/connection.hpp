// SPDX-License-Identifier: MIT
// The event model's record of one connection, and the states it goes through.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include <sockhost/sdk/base_request_handler.hpp>
#include <sockhost/sdk/byte_stream.hpp>
#include <sockhost/sdk/posix/unique_fd.hpp>

#include "host/streams/socket_stream.hpp"

namespace sockhost::host::event {

using Clock = std::chrono::steady_clock;

/// Where a connection is. It changes only under the model's mutex, and the
/// connection is touched only by the one thread its state belongs to:
///
///   fresh (in epoll, accepted by the loop thread) -> running
///   accepted by a pool thread ------------------> running
///   running -> parked   (in epoll, waiting for input until its idle deadline)
///           -> writing  (in epoll, waiting to send queued output until the send timeout)
///           -> closed   (finish() ran exactly once, then erased)
///   parked / writing -> running (ready again: a pool thread claims it)
///   parked / writing -> queued  (the job queue: time out, or close at shutdown) -> running
enum class State { fresh, queued, running, parked, writing };

/// What a pool thread does with a connection it takes.
enum class Action {
    resume,      // run it: setup (first time), then handle_ready()
    write,       // writable again: send the queued output, then go on
    time_out,    // idle past its deadline: handle_idle_timeout(), finish, close
    close,       // the server is closing: finish, close
    abort,       // a reader too slow for the send timeout: finish, close, drop the queue
};

/// One per connection, parked ones included: kept small (the client's
/// address lives in the handler; the socket and its stream are all the
/// model needs).
struct Connection {
    std::uint64_t id = 0;                               // the epoll key
    sdk::posix::UniqueFd socket;                        // the accepted connection
    std::unique_ptr<DeferringSocketStream> stream;      // over `socket`; the handler's rfile/wfile
    std::unique_ptr<sdk::BaseRequestHandler> handler;
    State state = State::fresh;
    Action action = Action::resume;
    bool started = false;                               // setup() has run
    bool finished = false;                              // finish() has run
    bool close_after_write = false;                     // writing: then finish and close
    bool registered = false;                            // in the pool's epoll set
    bool edge = false;                                  // registered edge-triggered (after its first park)
    bool pending = false;                               // became ready while running: serve again
    /// epoll reported the peer's FIN (EPOLLRDHUP). Sticky: a turn that read
    /// data but stopped short of the end of stream leaves the connection
    /// ready, since edge-triggered epoll never reports that FIN again.
    bool hangup = false;
    /// The stream's reads() when the current turn began.
    std::uint64_t reads_before_turn = 0;
    Clock::time_point deadline{};                       // parked / writing until

    /// The job a connection past its deadline gets (parked: time it out;
    /// writing: abort it, its reader took longer than the send timeout),
    /// or none.
    std::optional<Action> expired(Clock::time_point now) const {
        if (deadline > now) return std::nullopt;
        if (state == State::parked) return Action::time_out;
        if (state == State::writing) return Action::abort;
        return std::nullopt;
    }

    /// A readiness event for it: true when a pool thread is to run it now
    /// (state running, action set); a running one is marked pending instead
    /// (its thread serves it again before parking); a queued one belongs to
    /// its job.
    bool claim() {
        if (state == State::running) {
            pending = true;
            return false;
        }
        if (state != State::fresh && state != State::parked && state != State::writing) return false;
        action = state == State::writing ? Action::write : Action::resume;
        state = State::running;
        return true;
    }

    /// Ends a turn: the connection waits (`waiting`: parked or writing)
    /// until `until`. Returns whether it is ready already, so it belongs on
    /// the ready list: something fired during the turn; `more_input` (its
    /// last read filled the buffer); or a hangup was reported and the turn
    /// read data without reaching the end of stream (`short_of_eof`). Edge-
    /// triggered epoll reports none of these again.
    bool park(State waiting, Clock::time_point until, bool more_input, bool short_of_eof) {
        const bool ready = pending || more_input || (hangup && short_of_eof);
        pending = false;
        state = waiting;
        deadline = until;
        return ready;
    }
};

}  // namespace sockhost::host::event
