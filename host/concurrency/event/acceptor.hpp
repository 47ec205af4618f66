// SPDX-License-Identifier: MIT
// The event model's pool side of the server socket: accepting connections
// (with a pause when descriptors run out) and receiving datagrams.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>

#include "host/concurrency/request_sink.hpp"

namespace sockhost::host::event {

/// The server socket in the pool's epoll set (EPOLLEXCLUSIVE: each wake-up
/// goes to one waiting thread). A thread woken by it accepts a run of
/// connections, each one's first turn served at once by that thread (the
/// model's process_request on a pool thread), or receives and answers a run
/// of datagrams. Out of descriptors (EMFILE ...), the pool stops accepting
/// for a while and the loop thread resumes it.
class Acceptor {
public:
    /// Connections a thread woken by the listening socket accepts in a row
    /// (fewer when fewer wait): under a stream of new connections (clients
    /// that close after each request) one wake-up, not one per connection.
    static constexpr int kAcceptsPerWake = 16;
    /// Datagrams a thread receives and answers in a row before it looks at
    /// epoll again.
    static constexpr int kDatagramsPerWake = 64;
    /// How long the pool stops accepting after running out of descriptors.
    static constexpr std::chrono::milliseconds kPause{100};

    /// `key`: the epoll key its events carry.
    Acceptor(RequestSink& server, int epoll_fd, std::uint64_t key);

    /// Puts the socket in the epoll set; false when that fails.
    bool add();
    /// Loop thread: the socket leaves the epoll set for good; returns once no
    /// pool thread is inside an accept on it (it is about to be closed).
    void release();
    /// Loop thread: resumes accepting after a pause that is over.
    void resume_if_due();
    /// True while the pool does not accept (paused): the loop accepts.
    bool paused() const { return paused_.load(std::memory_order_relaxed); }
    /// Pool threads still receiving datagrams (server_close waits for them).
    std::size_t receiving() const { return receiving_.load(); }

    /// A pool thread woken by the socket: accepts or receives a run.
    void on_ready(bool stream);
    /// The model's process_request took a connection this thread accepted:
    /// the thread is out of the accept (release() may close the socket).
    static void accepted_here(Acceptor* acceptor);
    /// True on a pool thread inside on_ready()'s accept or receive.
    static bool on_pool_thread_taking();

private:
    void accept_some();
    void receive_datagrams();
    void pause();

    RequestSink& server_;
    const int epoll_fd_;
    const std::uint64_t key_;
    std::atomic<int> accepting_{0};            // pool threads inside an accept
    std::atomic<bool> released_{false};        // release(): accept no more
    std::atomic<bool> paused_{false};          // out of descriptors
    std::atomic<std::chrono::steady_clock::time_point> resume_at_{};
    std::atomic<std::size_t> receiving_{0};    // pool threads receiving datagrams
    std::mutex log_mutex_;
    std::chrono::steady_clock::time_point last_log_{};
};

}  // namespace sockhost::host::event
