// SPDX-License-Identifier: MIT
// The event model (concurrency = "event"). docs/concurrency.md has its
// state diagram and the reasons; connection.hpp its states.
//
// Leader/followers over one epoll set: the pool threads themselves wait in
// epoll_wait (a batch of up to 64 events), so a thread that sees connections
// become ready serves them, with no hand-off. Parts:
//   event_model.cpp   the model's interface to BaseServer, the pool loop, the
//                     job queue, deadlines and the overload policy
//   turn.cpp          one turn of a connection: serve, then park, wait to
//                     write, or finish and close
//   connection.hpp    a connection's record and states
//   ready_list.hpp    connections ready to run, shared by the pool
//   acceptor.*        the server socket on the pool side (accept, EMFILE
//                     pause, datagrams)
//   lingerer.*        lingering closes on the loop thread
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include <sockhost/sdk/posix/unique_fd.hpp>

#include "host/concurrency/concurrency.hpp"
#include "host/concurrency/event/acceptor.hpp"
#include "host/concurrency/event/connection.hpp"
#include "host/concurrency/event/lingerer.hpp"
#include "host/concurrency/event/ready_list.hpp"

namespace sockhost::host::event {

class EventModel final : public ConcurrencyModel {
public:
    explicit EventModel(const ServerConfig& config);
    ~EventModel() override;

    std::string_view name() const override { return "event"; }
    void serve_started(RequestSink& server) override;
    bool takes_socket() const override;
    bool waits_for_first_bytes() const override { return true; }
    void release_socket(RequestSink& server) override;
    void process_request(RequestSink& server, PendingRequest& request) override;
    void service_actions(RequestSink& server) override;
    void wait_fds(std::vector<int>& fds) const override;
    int poll_timeout_ms() const override;
    std::size_t server_close(RequestSink& server, Clock::time_point deadline) override;

private:
    /// A queued job: a connection (time out / close / resume at shutdown),
    /// or a datagram the loop thread received.
    struct Job {
        Connection* connection = nullptr;
        PendingRequest datagram;
    };
    using ConnMap = std::unordered_map<std::uint64_t, std::unique_ptr<Connection>>;

    // event_model.cpp
    void start(RequestSink& server);
    void work();
    void share_ready(const ::epoll_event* events, int n);
    bool take_ready();
    bool take_job();
    void queue_datagram(PendingRequest& request);
    void serve_accepted(PendingRequest& request);
    void refuse(std::unique_ptr<Connection> c);
    void note_overload(std::string_view what);
    void enqueue(Connection& c, Action action);   // under mutex_
    std::unique_ptr<Connection> take(ConnMap::iterator it);   // under mutex_
    static void signal(const sdk::posix::UniqueFd& efd);
    static std::size_t default_threads();

    // turn.cpp
    struct Turn;
    std::unique_ptr<Connection> make_connection(PendingRequest& request);
    void run(Connection& c);
    Turn serve(Connection& c);
    bool park(Connection& c, Clock::time_point deadline);
    bool wait_writable(Connection& c);
    void finish(Connection& c, Turn& t);
    void close(Connection& c, const Turn& t);
    bool arm_edge(Connection& c);
    void unregister(Connection& c, int fd);
    void requeue_if_ready(Connection& c, bool ready);   // under mutex_

    const std::size_t threads_;
    const std::size_t max_queued_;
    const bool block_on_close_;

    RequestSink* server_ = nullptr;   // set by start(), before the pool exists
    bool stream_ = false;             // a stream server (set before the pool reads it)
    sdk::posix::UniqueFd epoll_;      // connections, the server socket, the eventfds; the pool waits here
    sdk::posix::UniqueFd jobs_efd_;   // the job queue is not empty (EPOLLONESHOT)
    sdk::posix::UniqueFd stop_efd_;   // the pool is to leave (level-triggered)
    sdk::posix::UniqueFd wake_efd_;   // ready_ has connections for a waiting thread
    std::unique_ptr<Acceptor> acceptor_;
    bool takes_socket_ = false;       // loop thread: the pool has the server socket
    Lingerer lingerer_;
    std::vector<std::thread> pool_;

    std::mutex mutex_;
    std::condition_variable idle_cv_;   // server_close: everything finished
    std::deque<Job> queue_;
    ConnMap conns_;
    ReadyList ready_;
    std::atomic<int> in_epoll_{0};              // pool threads in (or entering) epoll_wait
    std::uint64_t next_id_;
    // Turns and jobs on pool threads: changed under mutex_, also read
    // without it (takes_socket: is every thread busy?).
    std::atomic<std::size_t> running_{0};
    std::size_t waiting_ = 0;           // fresh connections not yet taken by a thread
    bool closing_ = false;              // server_close began: nothing parks any more
    bool stop_ = false;                 // pool threads leave once the queue is empty
    std::atomic<std::size_t> live_{0};  // conns_.size(), for poll_timeout_ms
    std::atomic<std::size_t> jobs_{0};  // queue_.size(), read without the lock

    // Loop thread only.
    Clock::time_point next_scan_{};
    Clock::time_point last_overload_log_{};
    std::size_t refused_ = 0;
};

}  // namespace sockhost::host::event
