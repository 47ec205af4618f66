// SPDX-License-Identifier: MIT
// OpenFile::open: the contained open (openat2 where the kernel has it).
#include "open_file.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <string>

#include "static_files.hpp"

namespace sockhost::plugins::files {

namespace fs = std::filesystem;

namespace {

constexpr int kOpenFlags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;

/// openat2(dirfd, path, kOpenFlags, resolve | RESOLVE_NO_MAGICLINKS) by
/// syscall (glibc has no wrapper): the fd, or -1 with errno. ENOSYS (an
/// old kernel) or EPERM (a seccomp filter that does not know it) mean
/// "no openat2 here": it is not tried again, and the caller falls back.
int openat2_checked(int dirfd, const char* path, std::uint64_t resolve) {
    static std::atomic<bool> works{true};
    if (!works.load(std::memory_order_relaxed)) {
        errno = ENOSYS;
        return -1;
    }
    struct open_how how {};
    how.flags = static_cast<std::uint64_t>(kOpenFlags);
    how.resolve = resolve | RESOLVE_NO_MAGICLINKS;
    int fd;
    do {
        fd = static_cast<int>(::syscall(SYS_openat2, dirfd, path, &how, sizeof how));
    } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
    if (fd < 0 && (errno == ENOSYS || errno == EPERM)) works.store(false, std::memory_order_relaxed);
    return fd;
}

bool openat2_unavailable(int err) { return err == ENOSYS || err == EPERM; }

/// Opens a canonical path refusing any symlink on the way: openat2 with
/// RESOLVE_NO_SYMLINKS (Linux 5.6+), else O_NOFOLLOW on the last component.
int open_no_symlinks(const fs::path& canonical) {
    int fd = openat2_checked(AT_FDCWD, canonical.c_str(), RESOLVE_NO_SYMLINKS);
    if (fd >= 0 || !openat2_unavailable(errno)) return fd;
    do {
        fd = ::open(canonical.c_str(), kOpenFlags | O_NOFOLLOW);
    } while (fd < 0 && errno == EINTR);
    return fd;
}

/// openat2(root_fd, path relative to root, RESOLVE_BENEATH): the fd, or -1
/// with errno (EXDEV: the path leaves the root; ENOSYS/EPERM: no openat2).
int open_beneath(int root_fd, const fs::path& root, const fs::path& path) {
    const std::string& full = path.native();
    const std::string& base = root.native();
    std::string rel = full.size() > base.size() ? full.substr(base.size()) : std::string();
    std::size_t skip = rel.find_first_not_of('/');
    rel = skip == std::string::npos ? "." : rel.substr(skip);
    return openat2_checked(root_fd, rel.c_str(), RESOLVE_BENEATH);
}

}  // namespace

int OpenFile::open(const fs::path& path, const fs::path* canonical_root, int root_fd) {
    fd_.reset();
    int fd = -1;
    // Paths built by the handler always start with the root; anything else
    // takes the slow path.
    if (canonical_root != nullptr && root_fd >= 0 &&
        path.native().compare(0, canonical_root->native().size(), canonical_root->native()) == 0) {
        fd = open_beneath(root_fd, *canonical_root, path);
        if (fd < 0 && errno != EXDEV && !openat2_unavailable(errno)) return errno;
    }
    if (fd >= 0) {
        // Found beneath the root in one syscall.
    } else if (canonical_root != nullptr) {
        fs::path real;
        if (int err = resolve_within(*canonical_root, path, real); err != 0) return err;
        fd = open_no_symlinks(real);
    } else {
        do {
            fd = ::open(path.c_str(), kOpenFlags);
        } while (fd < 0 && errno == EINTR);
    }
    if (fd < 0) return errno;
    sdk::posix::UniqueFd owned(fd);
    if (::fstat(fd, &stat_) != 0) return errno;
    fd_ = std::move(owned);
    return 0;
}

}  // namespace sockhost::plugins::files
