// SPDX-License-Identifier: MIT
#include "host/concurrency/event/acceptor.hpp"

#include <sys/epoll.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

namespace sockhost::host::event {

namespace {
using Clock = std::chrono::steady_clock;
/// Set while a pool thread is inside an accept or a receive run.
thread_local bool tls_taking = false;
/// Set while a pool thread is inside an accept (release() waits for it).
thread_local bool tls_accepting = false;
}  // namespace

Acceptor::Acceptor(RequestSink& server, int epoll_fd, std::uint64_t key)
    : server_(server), epoll_fd_(epoll_fd), key_(key) {}

bool Acceptor::add() {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.u64 = key_;
    return ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, server_.fileno(), &ev) == 0;
}

void Acceptor::release() {
    released_.store(true);
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, server_.fileno(), nullptr);
    // A thread already woken may still be inside accept on it.
    for (int i = 0; i < 2000 && accepting_.load() > 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void Acceptor::resume_if_due() {
    if (paused_.load() && !released_.load() && Clock::now() >= resume_at_.load() && add()) paused_.store(false);
}

bool Acceptor::on_pool_thread_taking() { return tls_taking; }

void Acceptor::on_ready(bool stream) {
    tls_taking = true;
    if (stream) accept_some();
    else receive_datagrams();
    tls_taking = false;
}

void Acceptor::accept_some() {
    for (int i = 0; i < kAcceptsPerWake; ++i) {
        // Counted before looking at the flag: release() either sees this
        // thread accepting (and waits) or this thread sees the flag.
        ++accepting_;
        if (released_.load()) {
            --accepting_;
            return;
        }
        tls_accepting = true;
        bool exhausted = false;
        const bool took = server_.take_ready_request(&exhausted);
        if (tls_accepting) {   // nothing accepted (accepted_here() clears it)
            tls_accepting = false;
            --accepting_;
        }
        if (exhausted) pause();
        if (!took) return;   // none waiting (or paused)
    }
}

void Acceptor::accepted_here(Acceptor* acceptor) {
    if (!tls_accepting || acceptor == nullptr) return;
    tls_accepting = false;
    --acceptor->accepting_;   // out of accept: the socket may close now
}

void Acceptor::receive_datagrams() {
    ++receiving_;
    for (int i = 0; i < kDatagramsPerWake; ++i)
        if (!server_.take_ready_request()) break;
    --receiving_;
}

void Acceptor::pause() {
    // The socket stays readable, so accepting on would spin.
    resume_at_.store(Clock::now() + kPause);
    if (!paused_.exchange(true)) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, server_.fileno(), nullptr);
    std::lock_guard lock(log_mutex_);
    const auto now = Clock::now();
    if (now - last_log_ < std::chrono::seconds(10)) return;
    last_log_ = now;
    server_.log(sdk::LogLevel::error, "accept: " + std::string(std::strerror(EMFILE)) +
                                          " (or another resource limit); pausing accept for 100 ms");
}

}  // namespace sockhost::host::event
