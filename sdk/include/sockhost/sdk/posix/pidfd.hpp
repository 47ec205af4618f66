// SPDX-License-Identifier: MIT
// pidfd_open(2): a file descriptor that polls readable when a child exits,
// so a process waiting for children can poll() instead of sleeping.
// Header-only; the host (forking) and the cgi plugin share it.
#pragma once

#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>

namespace sockhost::sdk::posix {

/// pidfd_open(pid, 0) by syscall (glibc 2.36's <sys/pidfd.h> lacks C++
/// linkage): a close-on-exec fd, or -1 with errno on kernels before 5.3,
/// where the caller polls with a timeout and waitpid(pid, WNOHANG) instead.
inline int pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

}  // namespace sockhost::sdk::posix
