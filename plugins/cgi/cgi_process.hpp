// SPDX-License-Identifier: MIT
// One CGI script as a child process: fork + execve with pipes on 0/1/2, in
// its own process group, always reaped by its exact pid. Python counterpart:
// the os.fork() branch of CGIHTTPRequestHandler.run_cgi.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include <sockhost/sdk/posix/unique_fd.hpp>

namespace sockhost::plugins::cgi {

/// The account a script runs as when the host is root (cgi_user).
struct Credentials {
    uid_t uid = 0;
    gid_t gid = 0;
};

/// Everything the child needs, prepared before fork: the child runs no
/// allocation, no lock, nothing but async-signal-safe system calls.
struct SpawnSpec {
    std::string program;                  // absolute path of the script, execve'd directly (no shell)
    std::vector<std::string> argv;        // argv[0] = program
    std::vector<std::string> envp;        // "NAME=value", the whole environment
    std::string working_dir;              // RFC 3875 7.2: the script's directory
    std::optional<Credentials> drop_to;   // setgroups/setgid/setuid before exec; fail closed
};

/// A running script. Owns the parent's pipe ends and the pid; the destructor
/// kills the whole process group (SIGKILL) if the child was not reaped yet,
/// then reaps it with waitpid(pid) — never waitpid(-1), whose status may
/// belong to the host's own children (ForkingMixIn reaps by pid).
/// Used by one handler on one thread.
class CgiProcess {
public:
    /// Starts the script. The child: own process group (setpgid), signal
    /// mask emptied and every disposition back to SIG_DFL (the host blocks
    /// SIGINT/SIGTERM/SIGHUP and ignores SIGPIPE, both inherited across
    /// exec otherwise), pipes on 0/1/2, every other fd closed, chdir,
    /// credentials dropped, execve. When execve (or a step before it) fails,
    /// the child reports errno over a close-on-exec pipe and spawn() returns
    /// it in `exec_error` with the child already reaped. Throws
    /// std::system_error when pipes or fork fail.
    static CgiProcess spawn(const SpawnSpec& spec, int& exec_error);

    CgiProcess() = default;
    ~CgiProcess();
    CgiProcess(CgiProcess&& other) noexcept;
    CgiProcess& operator=(CgiProcess&& other) noexcept;
    CgiProcess(const CgiProcess&) = delete;
    CgiProcess& operator=(const CgiProcess&) = delete;

    pid_t pid() const { return pid_; }
    /// Parent ends, non-blocking and close-on-exec; -1 once closed.
    int stdin_fd() const { return stdin_.get(); }
    int stdout_fd() const { return stdout_.get(); }
    int stderr_fd() const { return stderr_.get(); }
    /// A pidfd that polls readable when the child exits; -1 when the kernel
    /// has none (then poll with a short timeout and try_reap()).
    int pid_fd() const { return pid_fd_.get(); }

    void close_stdin() { stdin_.reset(); }
    void close_stdout() { stdout_.reset(); }
    void close_stderr() { stderr_.reset(); }

    /// waitpid(pid, WNOHANG): true once the child is reaped.
    bool try_reap();
    /// SIGKILL to the process group (and the pid), then a blocking waitpid.
    /// The group is killed while the leader is unreaped, so its pid cannot
    /// have been reused by then.
    void kill_and_reap();
    bool reaped() const { return pid_ <= 0 || reaped_; }
    /// The wait status once reaped.
    int wait_status() const { return status_; }

private:
    void release();
    pid_t pid_ = -1;
    sdk::posix::UniqueFd stdin_;
    sdk::posix::UniqueFd stdout_;
    sdk::posix::UniqueFd stderr_;
    sdk::posix::UniqueFd pid_fd_;
    bool reaped_ = false;
    int status_ = 0;
};

/// "exit status 3", "killed by signal 9".
std::string describe_wait_status(int status);

}  // namespace sockhost::plugins::cgi
