// SPDX-License-Identifier: MIT
// The header-only POSIX helpers host and plugins share: UniqueFd, pidfd_open.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <utility>

#include "sockhost/sdk/posix/pidfd.hpp"
#include "sockhost/sdk/posix/unique_fd.hpp"

namespace posix = sockhost::sdk::posix;

namespace {

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

TEST(UniqueFd, ClosesOnceAndMovesOwnership) {
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    const int r = p[0];
    ::close(p[1]);
    {
        posix::UniqueFd a(r);
        EXPECT_TRUE(a);
        posix::UniqueFd b = std::move(a);
        EXPECT_FALSE(a);   // NOLINT(bugprone-use-after-move): moved-from is empty
        EXPECT_EQ(b.get(), r);
        EXPECT_TRUE(is_open(r));
    }
    EXPECT_FALSE(is_open(r));
}

TEST(UniqueFd, ReleaseGivesUpAndResetReplaces) {
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    posix::UniqueFd a(p[0]);
    EXPECT_EQ(a.release(), p[0]);
    EXPECT_FALSE(a);
    EXPECT_TRUE(is_open(p[0]));
    a.reset(p[0]);
    a.reset(p[1]);   // closes p[0]
    EXPECT_FALSE(is_open(p[0]));
    EXPECT_TRUE(is_open(p[1]));
    a.reset();
    EXPECT_FALSE(is_open(p[1]));
}

TEST(PidfdOpen, PollsReadableWhenTheChildExits) {
    int go[2];   // the child exits once this pipe closes
    ASSERT_EQ(::pipe(go), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::close(go[1]);
        char c;
        while (::read(go[0], &c, 1) > 0) {
        }
        ::_exit(3);
    }
    ::close(go[0]);
    posix::UniqueFd wake(go[1]);
    posix::UniqueFd fd(posix::pidfd_open(pid));
    if (!fd) {
        wake.reset();
        ::waitpid(pid, nullptr, 0);
        GTEST_SKIP() << "no pidfd_open on this kernel";
    }
    EXPECT_EQ(::fcntl(fd.get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    pollfd p{fd.get(), POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 0), 0);   // still running
    wake.reset();
    EXPECT_EQ(::poll(&p, 1, 10'000), 1);
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, WNOHANG), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 3);
}

}  // namespace
