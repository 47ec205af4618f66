// SPDX-License-Identifier: MIT
// OpenFile: a file opened for one request, contained in the document root.
// The security-critical part of file serving: nothing outside the root is
// opened, whatever the path or a symlink swapped in meanwhile says.
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <utility>

#include <sockhost/sdk/posix/unique_fd.hpp>

namespace sockhost::plugins::files {

/// An open file (or directory) and its fstat, owned for one request.
class OpenFile {
public:
    int fd() const { return fd_.get(); }
    const struct stat& stat() const { return stat_; }
    bool is_dir() const { return S_ISDIR(stat_.st_mode); }
    bool is_regular() const { return S_ISREG(stat_.st_mode); }
    /// Hands the fd over; the object is left closed.
    sdk::posix::UniqueFd release() { return std::move(fd_); }
    void close() { fd_.reset(); }

    /// Opens `path` read-only (non-blocking, so a FIFO cannot hang us) and
    /// fstats it once. With `canonical_root` set, the path's realpath must
    /// lie below it and is opened with no symlink resolution at all
    /// (openat2 RESOLVE_NO_SYMLINKS, else O_NOFOLLOW), so a symlink swapped
    /// in after the check is refused too. Returns 0 or an errno (EXDEV when
    /// the path leaves the root).
    /// Fast path: with `root_fd` (the root opened O_PATH), one
    /// openat2(root_fd, relative, RESOLVE_BENEATH) does the containment
    /// check in the kernel; only when it answers EXDEV (an escape, or an
    /// absolute symlink that may still land inside) or is unavailable does
    /// the realpath check above decide.
    int open(const std::filesystem::path& path, const std::filesystem::path* canonical_root,
             int root_fd = -1);

private:
    sdk::posix::UniqueFd fd_;
    struct stat stat_ {};
};

}  // namespace sockhost::plugins::files
