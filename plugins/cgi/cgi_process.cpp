// SPDX-License-Identifier: MIT
// CgiProcess: clone + execve of one CGI script; see cgi_process.hpp.
//
// Why not posix_spawn: dropping to cgi_user needs setgroups/setgid/setuid
// between the clone and the exec, which posix_spawn cannot do without a
// helper binary. So the child is made as posix_spawn makes its own:
// clone(CLONE_VM | CLONE_VFORK) on a stack of its own, sharing the host's
// memory while the calling thread waits for the exec. fork() copied the
// host's page tables and write-protected its pages (TLB shootdowns across
// the host's threads, copy-on-write faults afterwards) for every request;
// perf put that at over half of the host's CPU under CGI load. The child
// runs only system calls on data prepared before (argv/envp arrays, paths,
// ids), with every signal blocked until it has reset their dispositions,
// and changes its ids with raw system calls: glibc's setuid & co. would
// signal the host's threads (all threads of a process share credentials),
// which the child, sharing their memory, sees as its own.
#include "cgi_process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include <sockhost/sdk/posix/pidfd.hpp>

namespace sockhost::plugins::cgi {

using sdk::posix::UniqueFd;

namespace {

[[noreturn]] void throw_errno(const char* what) {
    throw std::system_error(errno, std::generic_category(), what);
}

/// A close-on-exec pipe whose two ends are both >= 3, so dup2 onto 0/1/2
/// in the child can never clobber another pipe end.
void make_pipe(UniqueFd& read_end, UniqueFd& write_end) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) throw_errno("pipe2");
    for (int& fd : p) {
        if (fd < 3) {
            int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
            int err = errno;
            ::close(fd);
            fd = moved;
            if (moved < 0) {
                errno = err;
                ::close(p[0] >= 0 ? p[0] : p[1]);
                throw_errno("fcntl(F_DUPFD_CLOEXEC)");
            }
        }
    }
    read_end.reset(p[0]);
    write_end.reset(p[1]);
}

void set_nonblocking(int fd) {
    int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) throw_errno("fcntl(O_NONBLOCK)");
}

/// What the child reads: plain pointers into storage the parent keeps alive.
struct ChildPlan {
    const char* program;
    char* const* argv;
    char* const* envp;
    const char* dir;
    int in_fd, out_fd, err_fd;   // the child's ends, all >= 3
    int report_fd;               // close-on-exec; errno goes here when exec fails
    bool drop;
    uid_t uid;
    gid_t gid;
    int max_fd;                  // close() loop bound if close_range is missing
};

/// Reports `err` to the parent and exits; async-signal-safe.
[[noreturn]] void child_fail(int report_fd, int err) {
    ssize_t ignored = ::write(report_fd, &err, sizeof err);
    (void)ignored;
    ::_exit(127);
}

/// Runs in the child (sharing the host's memory until execve): system calls
/// only, then execve.
[[noreturn]] void child_exec(const ChildPlan& p) {
    int report = p.report_fd;
    // Own process group, so a timeout can kill the script and its children.
    if (::setpgid(0, 0) != 0) child_fail(report, errno);
    // Dispositions first (an ignored SIGPIPE survives exec), then the mask
    // the host's threads block SIGINT/SIGTERM/SIGHUP with.
    struct sigaction dfl;
    std::memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    for (int sig = 1; sig < NSIG; ++sig)
        if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);   // EINVAL for reserved ones
    sigset_t none;
    sigemptyset(&none);
    if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0) child_fail(report, errno);
    if (::dup2(p.in_fd, 0) < 0 || ::dup2(p.out_fd, 1) < 0 || ::dup2(p.err_fd, 2) < 0)
        child_fail(report, errno);
    // The report pipe moves to fd 3 (close-on-exec again: dup2 clears it),
    // and every descriptor above it goes: the script sees only 0, 1 and 2.
    if (::dup2(report, 3) < 0) child_fail(report, errno);
    report = 3;
    if (::fcntl(report, F_SETFD, FD_CLOEXEC) != 0) child_fail(report, errno);
    if (::close_range(4, ~0U, 0) != 0)
        for (int fd = 4; fd <= p.max_fd; ++fd) ::close(fd);
    // RFC 3875 7.2: the current directory SHOULD be the script's.
    if (::chdir(p.dir) != 0) child_fail(report, errno);
    if (p.drop) {
        // As root: supplementary groups, then gid, then uid (after setuid the
        // others could not be changed any more). Any failure: no exec.
        gid_t groups[1] = {p.gid};
        if (::syscall(SYS_setgroups, 1, groups) != 0) child_fail(report, errno);
        if (::syscall(SYS_setgid, p.gid) != 0) child_fail(report, errno);
        if (::syscall(SYS_setuid, p.uid) != 0) child_fail(report, errno);
        if (p.uid != 0 && (::syscall(SYS_setuid, 0) == 0 || ::geteuid() == 0)) child_fail(report, EPERM);
    }
    ::execve(p.program, p.argv, p.envp);
    child_fail(report, errno);
}

/// clone()'s entry point (the sanitizer builds fork instead).
[[maybe_unused]] int child_main(void* plan) { child_exec(*static_cast<const ChildPlan*>(plan)); }

/// Starts the child and returns its pid once it has exec'd (or failed);
/// -1 and errno when it could not be made.
pid_t start_child(const ChildPlan& plan) {
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
    // The sanitizers cannot follow a child that shares the parent's memory
    // on a stack of its own (ASan reports its own bookkeeping there): the
    // sanitizer builds fork, as before.
    pid_t pid = ::fork();
    if (pid == 0) child_exec(plan);
    return pid;
#else
    constexpr std::size_t kStack = 64 * 1024;   // child_exec's frames, with room to spare
    void* stack = ::mmap(nullptr, kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) return -1;
    // Nothing may run a host signal handler in the child: all blocked here
    // (and so in the child) until it has reset the dispositions. The raw
    // call: pthread_sigmask leaves glibc's internal signals unblocked.
    sigset_t all, old;
    sigfillset(&all);
    constexpr long kKernelSigsetBytes = 8;   // _NSIG / 8 on Linux
    ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, kKernelSigsetBytes);
    const pid_t pid = ::clone(child_main, static_cast<char*>(stack) + kStack, CLONE_VM | CLONE_VFORK | SIGCHLD,
                              const_cast<ChildPlan*>(&plan));
    const int err = errno;
    ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, nullptr, kKernelSigsetBytes);
    ::munmap(stack, kStack);   // the child has exec'd or exited: CLONE_VFORK waited for it
    errno = err;
    return pid;
#endif
}

}  // namespace

CgiProcess CgiProcess::spawn(const SpawnSpec& spec, int& exec_error) {
    exec_error = 0;
    UniqueFd in_r, in_w, out_r, out_w, err_r, err_w, rep_r, rep_w;
    make_pipe(in_r, in_w);
    make_pipe(out_r, out_w);
    make_pipe(err_r, err_w);
    make_pipe(rep_r, rep_w);

    // argv / envp as the NULL-terminated arrays execve wants, built now.
    std::vector<char*> argv;
    argv.reserve(spec.argv.size() + 1);
    for (const std::string& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    envp.reserve(spec.envp.size() + 1);
    for (const std::string& e : spec.envp) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);

    struct rlimit rl {};
    int max_fd = 4096;
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        max_fd = static_cast<int>(std::min<rlim_t>(rl.rlim_cur, 1 << 20));

    ChildPlan plan{spec.program.c_str(),
                   argv.data(),
                   envp.data(),
                   spec.working_dir.c_str(),
                   in_r.get(),
                   out_w.get(),
                   err_w.get(),
                   rep_w.get(),
                   spec.drop_to.has_value(),
                   spec.drop_to ? spec.drop_to->uid : 0,
                   spec.drop_to ? spec.drop_to->gid : 0,
                   max_fd};

    const pid_t pid = start_child(plan);
    if (pid < 0) throw_errno("clone");

    CgiProcess proc;
    proc.pid_ = pid;
    // Also from the parent (the child's setpgid has run by now, unless it
    // failed; harmless either way, EACCES after exec).
    (void)::setpgid(pid, pid);
    in_r.reset();
    out_w.reset();
    err_w.reset();
    rep_w.reset();

    // EOF: execve succeeded (the pipe closed on exec). An int: it failed.
    int err = 0;
    ssize_t n;
    do {
        n = ::read(rep_r.get(), &err, sizeof err);
    } while (n < 0 && errno == EINTR);
    if (n == static_cast<ssize_t>(sizeof err)) {
        exec_error = err != 0 ? err : EIO;
        proc.kill_and_reap();   // it is _exiting already; reap it now
        return proc;
    }

    set_nonblocking(in_w.get());
    set_nonblocking(out_r.get());
    set_nonblocking(err_r.get());
    proc.stdin_ = std::move(in_w);
    proc.stdout_ = std::move(out_r);
    proc.stderr_ = std::move(err_r);
    proc.pid_fd_.reset(sdk::posix::pidfd_open(pid));
    return proc;
}

CgiProcess::~CgiProcess() { release(); }

CgiProcess::CgiProcess(CgiProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      stdin_(std::move(other.stdin_)),
      stdout_(std::move(other.stdout_)),
      stderr_(std::move(other.stderr_)),
      pid_fd_(std::move(other.pid_fd_)),
      reaped_(other.reaped_),
      status_(other.status_) {}

CgiProcess& CgiProcess::operator=(CgiProcess&& other) noexcept {
    if (this != &other) {
        release();
        pid_ = std::exchange(other.pid_, -1);
        stdin_ = std::move(other.stdin_);
        stdout_ = std::move(other.stdout_);
        stderr_ = std::move(other.stderr_);
        pid_fd_ = std::move(other.pid_fd_);
        reaped_ = other.reaped_;
        status_ = other.status_;
    }
    return *this;
}

void CgiProcess::release() {
    close_stdin();
    close_stdout();
    close_stderr();
    if (!reaped()) kill_and_reap();
    pid_fd_.reset();
}

bool CgiProcess::try_reap() {
    if (reaped()) return true;
    int status = 0;
    pid_t r;
    do {
        r = ::waitpid(pid_, &status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == pid_ || (r < 0 && errno == ECHILD)) {
        reaped_ = true;
        status_ = r == pid_ ? status : 0;
    }
    return reaped_;
}

void CgiProcess::kill_and_reap() {
    if (reaped()) return;
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);   // in case it never became a group leader
    int status = 0;
    pid_t r;
    do {
        r = ::waitpid(pid_, &status, 0);
    } while (r < 0 && errno == EINTR);
    reaped_ = true;
    status_ = r == pid_ ? status : 0;
}

std::string describe_wait_status(int status) {
    if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
    return "wait status " + std::to_string(status);
}

}  // namespace sockhost::plugins::cgi
