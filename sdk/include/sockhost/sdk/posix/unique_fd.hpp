// SPDX-License-Identifier: MIT
// UniqueFd: owns a file descriptor and closes it once. Header-only; the
// host and plugins share it.
#pragma once

#include <unistd.h>

#include <utility>

namespace sockhost::sdk::posix {

/// A file descriptor closed on destruction (std::unique_ptr's contract for
/// an fd): movable, not copyable; -1 means none.
class UniqueFd {
public:
    UniqueFd() = default;
    /// Takes ownership of `fd` (may be -1).
    explicit UniqueFd(int fd) : fd_(fd) {}
    ~UniqueFd() { reset(); }
    UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& o) noexcept {
        if (this != &o) reset(std::exchange(o.fd_, -1));
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    /// Gives up the fd without closing it; the caller owns it.
    int release() { return std::exchange(fd_, -1); }
    /// Closes the fd held, if any, and takes `fd`.
    void reset(int fd = -1) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

}  // namespace sockhost::sdk::posix
