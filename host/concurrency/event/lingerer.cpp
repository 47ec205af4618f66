// SPDX-License-Identifier: MIT
#include "host/concurrency/event/lingerer.hpp"

#include <sys/epoll.h>

#include <cerrno>
#include <system_error>
#include <vector>

namespace sockhost::host::event {

void Lingerer::start() {
    epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
    if (!epoll_) throw std::system_error(errno, std::generic_category(), "epoll_create1");
}

void Lingerer::add(sdk::posix::UniqueFd socket) {
    const int fd = socket.get();
    std::lock_guard lock(mutex_);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    if (!epoll_ || ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) < 0) return;   // closes now
    by_fd_.emplace(fd, Entry{std::move(socket), LingeringClose(fd)});
    count_.store(by_fd_.size(), std::memory_order_relaxed);
}

void Lingerer::service() {
    if (empty()) return;
    epoll_event events[64];
    const int n = ::epoll_wait(epoll_.get(), events, 64, 0);
    std::vector<sdk::posix::UniqueFd> done;   // closed after the lock
    {
        std::lock_guard lock(mutex_);
        for (int i = 0; i < n; ++i) {
            auto it = by_fd_.find(events[i].data.fd);
            if (it != by_fd_.end() && !it->second.close.drain()) {
                done.push_back(std::move(it->second.socket));
                by_fd_.erase(it);
            }
        }
        const auto now = std::chrono::steady_clock::now();
        for (auto it = by_fd_.begin(); it != by_fd_.end();) {
            if (it->second.close.deadline() > now) {
                ++it;
                continue;
            }
            done.push_back(std::move(it->second.socket));
            it = by_fd_.erase(it);
        }
        count_.store(by_fd_.size(), std::memory_order_relaxed);
    }
    // Closing a socket takes it out of the epoll set.
}

void Lingerer::close_all() {
    std::unordered_map<int, Entry> all;
    {
        std::lock_guard lock(mutex_);
        all.swap(by_fd_);
        count_.store(0, std::memory_order_relaxed);
    }
}

}  // namespace sockhost::host::event
