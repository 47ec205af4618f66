// SPDX-License-Identifier: MIT
// CgiProcess against real children: what the child inherits (signals, fds,
// environment, directory, process group), exec errors, kill and reap.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>

#include "cgi/cgi_process.hpp"

namespace cg = sockhost::plugins::cgi;

namespace {

/// Reads the child's stdout to EOF (bounded) and reaps it.
std::string run_to_end(cg::CgiProcess& p) {
    std::string out;
    char buf[4096];
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (p.stdout_fd() >= 0 && std::chrono::steady_clock::now() < deadline) {
        pollfd pfd{p.stdout_fd(), POLLIN, 0};
        if (::poll(&pfd, 1, 100) <= 0) continue;
        ssize_t n = ::read(p.stdout_fd(), buf, sizeof buf);
        if (n > 0) out.append(buf, static_cast<std::size_t>(n));
        else if (n == 0) p.close_stdout();
    }
    for (int i = 0; i < 1000 && !p.try_reap(); ++i) ::usleep(10'000);
    return out;
}

cg::SpawnSpec shell(const std::string& command) {
    cg::SpawnSpec s;
    s.program = "/bin/sh";
    s.argv = {"/bin/sh", "-c", command};
    s.envp = {"PATH=/usr/bin:/bin", "MARK=1"};
    s.working_dir = "/tmp";
    return s;
}

TEST(CgiProcess, ChildHasDefaultSignalsOnlyStdioAndItsOwnGroup) {
    // What the host does to itself: blocked shutdown signals, ignored SIGPIPE,
    // and a descriptor without close-on-exec that must not leak.
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    ::pthread_sigmask(SIG_BLOCK, &block, &old);
    struct sigaction ign {}, old_pipe {};
    ign.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ign, &old_pipe);
    int leaked = ::open("/dev/null", O_RDONLY);   // no O_CLOEXEC on purpose
    ASSERT_GE(leaked, 0);

    int err = 0;
    cg::CgiProcess p = cg::CgiProcess::spawn(
        shell("grep -E '^Sig(Blk|Ign)' /proc/self/status; ls /proc/self/fd | tr '\\n' ' '; echo;"
              " pwd; env | sort | tr '\\n' ' '; echo; ps -o pgid= -p $$ | tr -d ' '; echo $$"),
        err);
    ::close(leaked);
    ::sigaction(SIGPIPE, &old_pipe, nullptr);
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    ASSERT_EQ(err, 0);
    p.close_stdin();
    std::string out = run_to_end(p);
    EXPECT_NE(out.find("SigBlk:\t0000000000000000"), std::string::npos) << out;
    EXPECT_NE(out.find("SigIgn:\t0000000000000000"), std::string::npos) << out;
    // 0, 1, 2 and the fd ls itself opens (3).
    EXPECT_NE(out.find("\n0 1 2 3 \n"), std::string::npos) << out;
    EXPECT_NE(out.find("\n/tmp\n"), std::string::npos) << out;
    EXPECT_NE(out.find("MARK=1 PATH=/usr/bin:/bin PWD=/tmp"), std::string::npos) << out;
    EXPECT_EQ(out.find("HOME="), std::string::npos) << out;
    EXPECT_TRUE(p.reaped());
    EXPECT_TRUE(WIFEXITED(p.wait_status()));
}

TEST(CgiProcess, ChildIsItsOwnProcessGroupLeader) {
    int err = 0;
    cg::CgiProcess p = cg::CgiProcess::spawn(shell("echo $$; cut -d' ' -f5 /proc/$$/stat"), err);
    ASSERT_EQ(err, 0);
    std::string out = run_to_end(p);
    std::string pid = std::to_string(p.pid());
    EXPECT_EQ(out, pid + "\n" + pid + "\n");
}

TEST(CgiProcess, ExecFailureIsReportedAndTheChildReaped) {
    cg::SpawnSpec s = shell("");
    s.program = "/nonexistent/script";
    s.argv = {s.program};
    int err = 0;
    cg::CgiProcess p = cg::CgiProcess::spawn(s, err);
    EXPECT_EQ(err, ENOENT);
    EXPECT_TRUE(p.reaped());

    s = shell("");
    s.working_dir = "/nonexistent";
    p = cg::CgiProcess::spawn(s, err);
    EXPECT_EQ(err, ENOENT);
    EXPECT_TRUE(p.reaped());
}

TEST(CgiProcess, KillAndReapEndsTheWholeGroup) {
    int err = 0;
    // The script starts a grandchild in its group and both sleep.
    cg::CgiProcess p = cg::CgiProcess::spawn(shell("sleep 30 & echo $!; exec sleep 30"), err);
    ASSERT_EQ(err, 0);
    std::string line;
    char c;
    while (line.find('\n') == std::string::npos) {
        pollfd pfd{p.stdout_fd(), POLLIN, 0};
        ASSERT_GT(::poll(&pfd, 1, 5000), 0);
        ASSERT_EQ(::read(p.stdout_fd(), &c, 1), 1);
        line += c;
    }
    pid_t grandchild = std::stoi(line);
    pid_t pid = p.pid();
    p.kill_and_reap();
    EXPECT_TRUE(p.reaped());
    EXPECT_TRUE(WIFSIGNALED(p.wait_status()));
    EXPECT_EQ(::kill(pid, 0), -1);   // reaped: gone entirely
    // The grandchild got SIGKILL too (it is reaped by init, not by us).
    bool gone = false;
    for (int i = 0; i < 200 && !gone; ++i) {
        std::string stat;
        int fd = ::open(("/proc/" + std::to_string(grandchild) + "/stat").c_str(), O_RDONLY);
        if (fd < 0) {
            gone = true;
            break;
        }
        char buf[512];
        ssize_t n = ::read(fd, buf, sizeof buf);
        ::close(fd);
        if (n > 0) stat.assign(buf, static_cast<std::size_t>(n));
        gone = stat.find(") Z") != std::string::npos;
        if (!gone) ::usleep(10'000);
    }
    EXPECT_TRUE(gone);
}

TEST(CgiProcess, DestructorKillsAndReapsARunningChild) {
    pid_t pid;
    {
        int err = 0;
        cg::CgiProcess p = cg::CgiProcess::spawn(shell("exec sleep 30"), err);
        ASSERT_EQ(err, 0);
        pid = p.pid();
    }
    EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1);
    EXPECT_EQ(errno, ECHILD);
}

TEST(CgiDescribeWaitStatus, NamesExitAndSignal) {
    EXPECT_EQ(cg::describe_wait_status(3 << 8), "exit status 3");
    EXPECT_EQ(cg::describe_wait_status(9), "killed by signal 9");
}

}  // namespace
