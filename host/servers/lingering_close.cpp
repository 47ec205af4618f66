// SPDX-License-Identifier: MIT
#include "host/servers/lingering_close.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

namespace sockhost::host {

using Clock = std::chrono::steady_clock;

ssize_t drop_unread(int fd) {
    char scratch[16384];
    // MSG_TRUNC: TCP discards the bytes without copying them.
    return ::recv(fd, scratch, sizeof scratch, MSG_DONTWAIT | MSG_TRUNC);
}

LingeringClose::LingeringClose(int fd) : fd_(fd), deadline_(Clock::now() + kTime) {}

bool LingeringClose::drain() {
    for (;;) {
        if (dropped_ >= kBytes || Clock::now() >= deadline_) return false;
        const ssize_t n = drop_unread(fd_);
        if (n > 0) {
            dropped_ += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);   // more may come
    }
}

void LingeringClose::run() {
    while (drain()) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
        if (left.count() <= 0) return;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return;
    }
}

}  // namespace sockhost::host
