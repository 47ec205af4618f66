// SPDX-License-Identifier: MIT
// Lingering closes done by the event model's loop thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <unordered_map>

#include <sockhost/sdk/posix/unique_fd.hpp>

#include "host/servers/lingering_close.hpp"

namespace sockhost::host::event {

/// Connections whose write side is shut while the client still sends (a
/// refused connection after its 503, a request body nobody read): the loop
/// thread drops what arrives until the client closes or LingeringClose's
/// limits pass, then closes them. No pool thread waits for them.
class Lingerer {
public:
    /// Its epoll set; on the first request (after a worker fork).
    void start();
    /// Takes `socket` (write side shut) and drains it; closes it at once when
    /// it cannot be watched. Any thread.
    void add(sdk::posix::UniqueFd socket);
    /// Loop thread: drains the ready ones, closes the finished and expired.
    void service();
    /// Closes every one (the server is closing).
    void close_all();
    /// The descriptor the loop waits on (ready: call service()), or -1.
    int wait_fd() const { return epoll_ ? epoll_.get() : -1; }
    bool empty() const { return count_.load(std::memory_order_relaxed) == 0; }

private:
    struct Entry {
        sdk::posix::UniqueFd socket;
        LingeringClose close;
    };
    sdk::posix::UniqueFd epoll_;
    std::mutex mutex_;
    std::unordered_map<int, Entry> by_fd_;   // keyed by the socket's descriptor
    std::atomic<std::size_t> count_{0};
};

}  // namespace sockhost::host::event
