// SPDX-License-Identifier: MIT
// The host's byte streams over a connected socket: SocketStream for the
// models that give a connection a thread (sync, threading, forking), and
// DeferringSocketStream for the event model, which never lets a slow reader
// hold a thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "host/streams/host_stream.hpp"

namespace sockhost::host {

/// A ByteStream over a blocking socket the caller keeps owning. Reads and
/// sends wait with SO_RCVTIMEO / SO_SNDTIMEO (no poll() per read): a
/// blocking call returns EAGAIN when the wait runs out, which becomes
/// sdk::TimeoutError. sendfile() does not keep SO_SNDTIMEO (it went on
/// waiting for a reader that never read: Linux 6.x), so a file is sent
/// with the socket non-blocking for the call and poll() bounds each wait.
class SocketStream final : public HostStream {
public:
    SocketStream(int fd, std::chrono::milliseconds timeout);
    ~SocketStream() override;
    std::size_t read_some(char* buffer, std::size_t size) override;
    std::optional<std::size_t> read_nowait(char* buffer, std::size_t size) override;
    void write(std::string_view first, std::string_view second = {}) override;
    void write_more(std::string_view data) override;
    void send_file(int in_fd, off_t offset, std::size_t count) override;
    void shutdown_write() override;
    void set_timeout(std::chrono::milliseconds timeout) override { timeout_ = timeout; }
    std::chrono::milliseconds timeout() const override { return timeout_; }
    int fd() const override { return fd_; }

private:
    /// Applies timeout_ to SO_RCVTIMEO or SO_SNDTIMEO when that one differs:
    /// set_timeout() only records the value, so alternating idle, head and
    /// send timeouts costs no setsockopt() unless that direction is used.
    void apply_timeout(int option, std::chrono::milliseconds& applied);
    /// Sends `first` then `second`, starting without waiting: a response that
    /// fits the socket buffer goes out without the send timeout ever being
    /// applied; one that would wait applies it once and waits.
    void send_all(std::string_view first, std::string_view second, int flags);
    /// Waits until the socket is writable, bounded by the timeout.
    void wait_writable();

    int fd_;
    std::chrono::milliseconds timeout_;
    std::chrono::milliseconds rcv_applied_{-1};
    std::chrono::milliseconds snd_applied_{-1};
};

/// The event model's ByteStream, over a non-blocking socket. A send that
/// would wait queues what is left instead (bytes copied, a file range as a
/// duplicate descriptor and an offset) and returns, so no thread waits on a
/// slow reader: the model waits for the socket to be writable and calls
/// flush_pending() until it returns true. Bytes go out in the order
/// written: a read that would wait, a shutdown_write(), or queueing past
/// max_queued() bytes first sends the queue, waiting (poll(), bounded by
/// the timeout) on the calling thread.
class DeferringSocketStream final : public HostStream {
public:
    DeferringSocketStream(int fd, std::chrono::milliseconds timeout);
    ~DeferringSocketStream() override;
    DeferringSocketStream(const DeferringSocketStream&) = delete;
    DeferringSocketStream& operator=(const DeferringSocketStream&) = delete;

    std::size_t read_some(char* buffer, std::size_t size) override;
    std::optional<std::size_t> read_nowait(char* buffer, std::size_t size) override;
    void write(std::string_view first, std::string_view second = {}) override;
    void write_more(std::string_view data) override;
    void send_file(int in_fd, off_t offset, std::size_t count) override;
    void shutdown_write() override;
    void set_timeout(std::chrono::milliseconds timeout) override { timeout_ = timeout; }
    std::chrono::milliseconds timeout() const override { return timeout_; }
    bool pending() const override { return queue_ != nullptr; }
    int fd() const override { return fd_; }

    /// Sends queued output without waiting: true when nothing is left.
    /// Throws std::system_error when the connection failed.
    bool flush_pending();
    /// True when the last read filled all the room it was given, so the
    /// socket may hold more right now (an edge-triggered wait would not
    /// report it); false after a shorter read, "nothing yet", or when
    /// nothing was read.
    bool may_have_more() const { return more_; }
    /// Reads that returned bytes so far, and whether one returned the end
    /// of stream: a turn that read bytes but not the end, after the peer's
    /// FIN was reported, has input waiting that epoll will not report again.
    std::uint64_t reads() const { return reads_; }
    bool saw_eof() const { return eof_; }
    /// Queued bytes (a file range counts as 4 KiB) past which a write waits.
    static constexpr std::size_t max_queued() { return 256 * 1024; }

private:
    struct Queue;
    /// Sends `first` then `second`, MSG_MORE in `flags` or not: now as far as
    /// the socket takes them, the rest queued (or waited for, past max_queued()).
    void send_or_queue(std::string_view first, std::string_view second, int flags);
    /// flush_pending()'s work.
    bool flush_queue();
    /// Sends the whole queue, waiting (bounded by the timeout) as needed.
    void drain_queue();
    /// Waits until the socket is `events`-ready; TimeoutError past the timeout.
    void wait_for(short events, const char* what);
    /// One recv(MSG_DONTWAIT): nullopt for EAGAIN.
    std::optional<std::size_t> try_recv(char* buffer, std::size_t size);

    int fd_;
    bool more_ = false;
    bool eof_ = false;
    std::uint64_t reads_ = 0;
    std::chrono::milliseconds timeout_;
    std::unique_ptr<Queue> queue_;
};

}  // namespace sockhost::host
