// SPDX-License-Identifier: MIT
// Lingering close (nginx's lingering_close; lighttpd does the same).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>

namespace sockhost::host {

/// When a client is still sending as its connection ends (a request body
/// nobody read), close() would answer its bytes with a RST, and a RST can
/// destroy the response before the client has read it. So after SHUT_WR,
/// input is read and dropped until the client closes too, for at most
/// kTime and kBytes. One object per connection being drained; the caller
/// owns the socket.
class LingeringClose {
public:
    static constexpr std::chrono::seconds kTime{2};
    static constexpr std::size_t kBytes = 64u << 20;

    explicit LingeringClose(int fd);
    /// Drops what has arrived, without waiting; false once done (the client
    /// closed, an error, kBytes dropped, or kTime passed).
    bool drain();
    /// The whole lingering close on the calling thread: waits (poll) and
    /// drains until done.
    void run();
    int fd() const { return fd_; }
    std::chrono::steady_clock::time_point deadline() const { return deadline_; }

private:
    int fd_;
    std::size_t dropped_ = 0;
    std::chrono::steady_clock::time_point deadline_;
};

/// Reads and drops what has arrived, without waiting: bytes dropped, 0 at
/// end of stream, < 0 when nothing was there (or an error: errno).
ssize_t drop_unread(int fd);

}  // namespace sockhost::host
