// SPDX-License-Identifier: MIT
// SocketStream and DeferringSocketStream.
#include "host/streams/socket_stream.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <deque>
#include <string>
#include <system_error>

#include <sockhost/sdk/errors.hpp>

namespace sockhost::host {

namespace {

[[noreturn]] void throw_errno(const char* what) {
    const int e = errno;
    if (e == EAGAIN || e == EWOULDBLOCK) throw sdk::TimeoutError(std::string(what) + " timed out");
    throw std::system_error(e, std::generic_category(), what);
}

[[noreturn]] void throw_file_shrank() {
    throw std::system_error(std::make_error_code(std::errc::io_error), "file shrank while being sent");
}

/// One send of `first` and `second` (one buffer: send(), which spares the
/// kernel a msghdr and an iovec array); the result of the call.
ssize_t send_two(int fd, std::string_view first, std::string_view second, int flags) {
    if (second.empty()) return ::send(fd, first.data(), first.size(), flags);
    if (first.empty()) return ::send(fd, second.data(), second.size(), flags);
    iovec iov[2] = {{const_cast<char*>(first.data()), first.size()},
                    {const_cast<char*>(second.data()), second.size()}};
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = 2;
    return ::sendmsg(fd, &msg, flags);
}

/// Drops `sent` bytes from the front of first + second.
void advance(std::string_view& first, std::string_view& second, std::size_t sent) {
    const std::size_t from_first = std::min(sent, first.size());
    first.remove_prefix(from_first);
    second.remove_prefix(sent - from_first);
}

/// One recv(MSG_DONTWAIT): bytes, 0 at end of stream (a reset peer too),
/// nullopt when nothing has arrived.
std::optional<std::size_t> recv_nowait(int fd, char* buffer, std::size_t size) {
    for (;;) {
        const ssize_t n = ::recv(fd, buffer, size, MSG_DONTWAIT);
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return std::nullopt;
        if (errno == ECONNRESET) return 0;   // the peer is gone: end of stream
        throw std::system_error(errno, std::generic_category(), "recv");
    }
}

}  // namespace

// --- SocketStream ----------------------------------------------------------------

SocketStream::SocketStream(int fd, std::chrono::milliseconds timeout) : fd_(fd), timeout_(timeout) {}

SocketStream::~SocketStream() = default;

void SocketStream::apply_timeout(int option, std::chrono::milliseconds& applied) {
    if (applied == timeout_) return;
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout_.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout_.count() % 1000) * 1000);
    if (::setsockopt(fd_, SOL_SOCKET, option, &tv, sizeof tv) == 0) applied = timeout_;
}

std::size_t SocketStream::read_some(char* buffer, std::size_t size) {
    apply_timeout(SO_RCVTIMEO, rcv_applied_);
    for (;;) {
        const ssize_t n = ::recv(fd_, buffer, size, 0);
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno == EINTR) continue;
        if (errno == ECONNRESET) return 0;   // the peer is gone: end of stream
        throw_errno("recv");
    }
}

std::optional<std::size_t> SocketStream::read_nowait(char* buffer, std::size_t size) {
    return recv_nowait(fd_, buffer, size);
}

void SocketStream::send_all(std::string_view first, std::string_view second, int flags) {
    note_accepted(first.size() + second.size());
    flags |= MSG_NOSIGNAL | MSG_DONTWAIT;
    try {
        while (!first.empty() || !second.empty()) {
            const ssize_t n = send_two(fd_, first, second, flags);
            if (n >= 0) {
                advance(first, second, static_cast<std::size_t>(n));
                note_sent(static_cast<std::size_t>(n));
                continue;
            }
            if (errno == EINTR) continue;
            if ((errno == EAGAIN || errno == EWOULDBLOCK) && (flags & MSG_DONTWAIT)) {
                flags &= ~MSG_DONTWAIT;   // wait from now on, bounded by the send timeout
                apply_timeout(SO_SNDTIMEO, snd_applied_);
                continue;
            }
            throw_errno("send");
        }
    } catch (...) {
        note_send_failed();
        throw;
    }
}

void SocketStream::write(std::string_view first, std::string_view second) { send_all(first, second, 0); }

void SocketStream::write_more(std::string_view data) { send_all(data, {}, MSG_MORE); }

void SocketStream::wait_writable() {
    pollfd p{fd_, POLLOUT, 0};
    const int ms = timeout_.count() > 0 ? static_cast<int>(std::min<std::int64_t>(timeout_.count(), INT32_MAX)) : -1;
    for (;;) {
        const int n = ::poll(&p, 1, ms);
        if (n > 0) return;   // writable, or an error the next call reports
        if (n == 0) throw sdk::TimeoutError("sendfile timed out");
        if (errno != EINTR) throw_errno("poll");
    }
}

namespace {
/// O_NONBLOCK on a socket for a scope, restored after.
class NonBlocking {
public:
    explicit NonBlocking(int fd) : fd_(fd), flags_(::fcntl(fd, F_GETFL)) {
        if (flags_ >= 0 && !(flags_ & O_NONBLOCK)) ::fcntl(fd_, F_SETFL, flags_ | O_NONBLOCK);
        else flags_ = -1;
    }
    ~NonBlocking() {
        if (flags_ >= 0) ::fcntl(fd_, F_SETFL, flags_);
    }
    NonBlocking(const NonBlocking&) = delete;
    NonBlocking& operator=(const NonBlocking&) = delete;

private:
    int fd_;
    int flags_;
};
}  // namespace

void SocketStream::send_file(int in_fd, off_t offset, std::size_t count) {
    bool copy = false;   // not sendfile-able: read and written (write() counts)
    try {
        NonBlocking nonblocking(fd_);
        while (count > 0) {
            const ssize_t n = ::sendfile(fd_, in_fd, &offset, std::min<std::size_t>(count, 1u << 30));
            if (n > 0) {
                count -= static_cast<std::size_t>(n);
                note_accepted(static_cast<std::size_t>(n));
                note_sent(static_cast<std::size_t>(n));
                continue;
            }
            if (n == 0) throw_file_shrank();
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                wait_writable();
                continue;
            }
            if (errno == EINVAL || errno == ENOSYS) {
                copy = true;
                break;
            }
            throw_errno("sendfile");
        }
    } catch (...) {
        note_accepted(count);   // what never left
        note_send_failed();
        throw;
    }
    if (copy) ByteStream::send_file(in_fd, offset, count);
}

void SocketStream::shutdown_write() { ::shutdown(fd_, SHUT_WR); }

// --- DeferringSocketStream ---------------------------------------------------------

namespace {
/// A queued file range costs this much of max_queued() (it holds a descriptor).
constexpr std::size_t kFilePartCost = 4096;
}  // namespace

struct DeferringSocketStream::Queue {
    struct Part {
        std::string bytes;     // bytes to send (empty for a file range)
        std::size_t pos = 0;   // ... already sent
        int file = -1;         // a duplicate of the file's descriptor, owned
        off_t offset = 0;
        std::size_t count = 0;
    };
    std::deque<Part> parts;
    std::size_t cost = 0;   // bytes left + kFilePartCost per file range

    ~Queue() {
        for (Part& p : parts)
            if (p.file >= 0) ::close(p.file);
    }
    bool empty() const { return parts.empty(); }
    void add_bytes(std::string_view a, std::string_view b) {
        Part p;
        p.bytes.reserve(a.size() + b.size());
        p.bytes.append(a).append(b);
        cost += p.bytes.size();
        parts.push_back(std::move(p));
    }
    void add_file(int in_fd, off_t offset, std::size_t count) {
        Part p;
        p.file = ::fcntl(in_fd, F_DUPFD_CLOEXEC, 0);   // the caller closes its own
        if (p.file < 0) throw std::system_error(errno, std::generic_category(), "dup");
        p.offset = offset;
        p.count = count;
        cost += kFilePartCost;
        parts.push_back(std::move(p));
    }
    void pop() {
        Part& p = parts.front();
        if (p.file >= 0) {
            ::close(p.file);
            cost -= kFilePartCost;
        } else {
            cost -= p.bytes.size() - p.pos;
        }
        parts.pop_front();
    }
};

// The queue exists only while something waits in it: a std::deque costs
// ~600 bytes before it holds anything, and most connections never queue.
DeferringSocketStream::DeferringSocketStream(int fd, std::chrono::milliseconds timeout)
    : fd_(fd), timeout_(timeout) {}

DeferringSocketStream::~DeferringSocketStream() = default;

void DeferringSocketStream::wait_for(short events, const char* what) {
    pollfd p{fd_, events, 0};
    const int ms = timeout_.count() > 0 ? static_cast<int>(std::min<std::int64_t>(timeout_.count(), INT32_MAX)) : -1;
    for (;;) {
        const int n = ::poll(&p, 1, ms);
        if (n > 0) return;   // ready, or an error the next call reports
        if (n == 0) throw sdk::TimeoutError(std::string(what) + " timed out");
        if (errno != EINTR) throw_errno("poll");
    }
}

bool DeferringSocketStream::flush_pending() {
    if (!queue_) return true;
    try {
        return flush_queue();
    } catch (...) {
        note_send_failed();
        throw;
    }
}

bool DeferringSocketStream::flush_queue() {
    Queue& q = *queue_;
    while (!q.empty()) {
        Queue::Part& p = q.parts.front();
        ssize_t n;
        if (p.file >= 0) {
            n = ::sendfile(fd_, p.file, &p.offset, std::min<std::size_t>(p.count, 1u << 30));
            if (n == 0) throw_file_shrank();
        } else {
            n = ::send(fd_, p.bytes.data() + p.pos, p.bytes.size() - p.pos, MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
            throw_errno(p.file >= 0 ? "sendfile" : "send");
        }
        const auto sent = static_cast<std::size_t>(n);
        note_sent(sent);
        if (p.file >= 0) {
            p.count -= sent;   // sendfile advanced p.offset
            if (p.count == 0) q.pop();
        } else {
            p.pos += sent;
            q.cost -= sent;
            if (p.pos == p.bytes.size()) q.pop();
        }
    }
    queue_.reset();
    return true;
}

void DeferringSocketStream::drain_queue() {
    while (!flush_pending()) {
        try {
            wait_for(POLLOUT, "send");
        } catch (...) {
            note_send_failed();
            throw;
        }
    }
}

void DeferringSocketStream::send_or_queue(std::string_view first, std::string_view second, int flags) {
    note_accepted(first.size() + second.size());
    if (queue_) {
        // Behind queued output: it joins the queue, or (too much queued) the
        // queue goes first, waiting.
        if (queue_->cost + first.size() + second.size() <= max_queued()) {
            queue_->add_bytes(first, second);
            return;
        }
        drain_queue();
    }
    try {
        while (!first.empty() || !second.empty()) {
            const ssize_t n = send_two(fd_, first, second, flags | MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n >= 0) {
                advance(first, second, static_cast<std::size_t>(n));
                note_sent(static_cast<std::size_t>(n));
                continue;
            }
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) throw_errno("send");
            if (first.size() + second.size() <= max_queued()) {
                queue_ = std::make_unique<Queue>();
                queue_->add_bytes(first, second);
                return;
            }
            wait_for(POLLOUT, "send");
        }
    } catch (...) {
        note_send_failed();
        throw;
    }
}

void DeferringSocketStream::write(std::string_view first, std::string_view second) {
    send_or_queue(first, second, 0);
}

void DeferringSocketStream::write_more(std::string_view data) { send_or_queue(data, {}, MSG_MORE); }

void DeferringSocketStream::send_file(int in_fd, off_t offset, std::size_t count) {
    if (queue_) {
        if (queue_->cost + kFilePartCost <= max_queued()) {
            queue_->add_file(in_fd, offset, count);
            note_accepted(count);
            return;
        }
        drain_queue();
    }
    bool copy = false;   // not sendfile-able: read and written (write() counts)
    try {
        while (count > 0) {
            const ssize_t n = ::sendfile(fd_, in_fd, &offset, std::min<std::size_t>(count, 1u << 30));
            if (n > 0) {
                count -= static_cast<std::size_t>(n);
                note_accepted(static_cast<std::size_t>(n));
                note_sent(static_cast<std::size_t>(n));
                continue;
            }
            if (n == 0) throw_file_shrank();
            if (errno == EINTR) continue;
            if (errno == EINVAL || errno == ENOSYS) {
                copy = true;
                break;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) throw_errno("sendfile");
            auto queue = std::make_unique<Queue>();
            queue->add_file(in_fd, offset, count);   // may throw (no descriptor left)
            queue_ = std::move(queue);
            note_accepted(count);
            return;
        }
    } catch (...) {
        note_accepted(count);   // what never left
        note_send_failed();
        throw;
    }
    if (copy) ByteStream::send_file(in_fd, offset, count);
}

std::optional<std::size_t> DeferringSocketStream::try_recv(char* buffer, std::size_t size) {
    std::optional<std::size_t> n = recv_nowait(fd_, buffer, size);
    more_ = n && *n == size;
    if (n && *n > 0) ++reads_;
    if (n && *n == 0) eof_ = true;
    return n;
}

std::size_t DeferringSocketStream::read_some(char* buffer, std::size_t size) {
    for (;;) {
        if (std::optional<std::size_t> n = try_recv(buffer, size)) return *n;
        // About to wait for the peer: what it may be waiting for goes first.
        drain_queue();
        wait_for(POLLIN, "recv");
    }
}

std::optional<std::size_t> DeferringSocketStream::read_nowait(char* buffer, std::size_t size) {
    return try_recv(buffer, size);
}

void DeferringSocketStream::shutdown_write() {
    drain_queue();
    ::shutdown(fd_, SHUT_WR);
}

}  // namespace sockhost::host
