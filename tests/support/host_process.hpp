// SPDX-License-Identifier: MIT
// Test support: temporary directories, the real sockhost binary as a child
// process, and raw socket clients. Every wait is bounded.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace sockhost::testing {

using namespace std::chrono_literals;

/// A fresh directory under /tmp (short, so Unix socket paths fit in 108
/// bytes), removed with its contents on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(std::string_view name) const { return path_ / name; }
    /// Writes `content` to path()/name (creating parent dirs); returns the path.
    std::filesystem::path write(std::string_view name, std::string_view content,
                                bool executable = false) const;

private:
    std::filesystem::path path_;
};

/// Sets an environment variable for the hosts started in its lifetime;
/// restores the old value after.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const std::string& value);
    ~ScopedEnv();
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    std::string name_;
    std::optional<std::string> old_;
};

/// "[host]\nplugins_dir = \"<build>/plugins\"\nlog_level = \"info\"\n"
std::string host_section(std::string_view log_level = "info",
                         std::string_view plugins_dir = {});

/// What a finished sockhost run printed.
struct RunResult {
    int exit_code = -1;          // exit status, or 128+signal
    std::string out;
    std::string err;
};

/// Runs `sockhost ARGS...` to completion (killed after `timeout`).
RunResult run_sockhost(const std::vector<std::string>& args,
                       std::chrono::milliseconds timeout = 20s);

/// How HostProcess starts the host, beyond its config.
struct Launch {
    std::vector<std::string> extra_args;
    int max_open_files = 0;   // > 0: RLIMIT_NOFILE in the child (EMFILE tests)
    /// Sockets passed as a service manager does (socket activation):
    /// descriptors 3, 4, ... with LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES.
    std::vector<std::pair<int, std::string>> listen_fds;
    /// Variables added to the child's environment (NOTIFY_SOCKET ...).
    std::vector<std::pair<std::string, std::string>> env;
    /// The binary to run instead of the build's (a copy an upgrade test replaces).
    std::string binary;
};

/// The real sockhost binary serving a config, as a child process we own.
/// Its stderr is collected line by line in the background.
class HostProcess {
public:
    /// Writes `config_text` to dir/servers.toml and starts
    /// `sockhost --config dir/servers.toml EXTRA_ARGS...`.
    /// `max_open_files` > 0 lowers RLIMIT_NOFILE in the child (EMFILE tests).
    HostProcess(const TempDir& dir, std::string_view config_text,
                std::vector<std::string> extra_args = {}, int max_open_files = 0);
    HostProcess(const TempDir& dir, std::string_view config_text, const Launch& launch);
    /// SIGKILLs the host if it still runs and reaps it.
    ~HostProcess();
    HostProcess(const HostProcess&) = delete;
    HostProcess& operator=(const HostProcess&) = delete;

    /// The host process (the supervisor, unless workers = 0).
    pid_t pid() const { return pid_; }
    /// The process that serves: the supervisor's worker (with the default
    /// workers = 1), or the host itself (workers = 0). Waits up to `timeout`
    /// while more than one child lives (a generation being replaced).
    pid_t serving_pid(std::chrono::milliseconds timeout = 5s) const;
    /// Waits for "server NAME listening on URL" and returns URL
    /// ("tcp://127.0.0.1:41234"); throws std::runtime_error on timeout or exit.
    std::string url(std::string_view server_name, std::chrono::milliseconds timeout = 15s);
    /// The port of a tcp/udp server.
    std::uint16_t port(std::string_view server_name, std::chrono::milliseconds timeout = 15s);
    /// Waits until a log line contains `needle`; false on timeout.
    bool wait_for_log(std::string_view needle, std::chrono::milliseconds timeout = 10s);
    /// Every stderr line so far, joined with '\n'.
    std::string log() const;
    /// Sends `sig`; waits up to `timeout` for exit; returns the exit code
    /// (128+signal when killed by one), or nullopt if it still runs.
    std::optional<int> stop(int sig = 15, std::chrono::milliseconds timeout = 20s);
    /// Waits for exit without signalling.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);
    bool running();
    /// CPU time (user + system) the serving process has used so far, from /proc.
    std::chrono::milliseconds cpu_time() const;

private:
    void reader_loop(int fd);
    pid_t pid_ = -1;
    std::optional<int> status_;
    std::thread reader_;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<std::string> lines_;
    bool eof_ = false;
    std::atomic<bool> stop_reader_{false};
};

// --- raw clients --------------------------------------------------------

/// Owns a socket fd.
class Socket {
public:
    Socket() = default;
    explicit Socket(int fd) : fd_(fd) {}
    ~Socket();
    Socket(Socket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    Socket& operator=(Socket&& o) noexcept;
    int fd() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    void close();

    /// Sends everything; throws on error.
    void send_all(std::string_view data) const;
    /// Reads until the peer closes or `timeout` passes.
    std::string read_all(std::chrono::milliseconds timeout = 10s) const;
    /// Reads until `n` bytes arrived, EOF or timeout.
    std::string read_exactly(std::size_t n, std::chrono::milliseconds timeout = 10s) const;
    /// Reads until `needle` appears in what was read (returns all read), EOF or timeout.
    std::string read_until(std::string_view needle, std::chrono::milliseconds timeout = 10s) const;
    /// One recv() with timeout ("" on EOF or timeout).
    std::string read_some(std::chrono::milliseconds timeout = 10s) const;
    /// shutdown(SHUT_WR).
    void shutdown_write() const;
    /// True when the peer closed (EOF or reset) within `timeout`.
    bool peer_closed(std::chrono::milliseconds timeout = 10s) const;

private:
    int fd_ = -1;
};

/// Connects to a listen URL ("tcp://...", "unix://..."); throws on failure.
Socket connect_stream(std::string_view url);
Socket connect_tcp(std::uint16_t port, std::string_view host = "127.0.0.1");
Socket connect_unix(const std::filesystem::path& path);
/// A datagram socket for `url` ("udp://..." or "unixgram://..."): connected to
/// the server; Unix clients are bound to a fresh path in `client_dir`.
Socket datagram_client(std::string_view url, const std::filesystem::path& client_dir = "/tmp");
/// Segments a TCP socket has received, all and those with data (tcp_info's
/// tcpi_segs_in and tcpi_data_segs_in, Linux 4.6+); nullopt where TCP_INFO
/// has no such fields.
struct SegmentsIn {
    long all = 0;
    long with_data = 0;
};
std::optional<SegmentsIn> segments_received(const Socket& s);
/// Sends one datagram and waits for one reply ("" on timeout).
std::string datagram_roundtrip(const Socket& s, std::string_view payload,
                               std::chrono::milliseconds timeout = 5s);

/// Number of zombie children of `pid` (scans /proc).
int count_zombie_children(pid_t pid);
/// Zombie children of `pid` once they had up to `timeout` to be reaped
/// (a child that just exited is a zombie for an instant).
int zombies_after(pid_t pid, std::chrono::milliseconds timeout = 2s);
/// Number of live (non-zombie) children of `pid`.
int count_children(pid_t pid);
/// The live (not zombie) children of `parent`.
std::vector<pid_t> live_children(pid_t parent);
/// Open file descriptors of `pid` (entries of /proc/PID/fd).
int count_open_fds(pid_t pid);
/// A TCP socket of this machine (/proc/net/tcp and tcp6): its state (1
/// ESTABLISHED, 4 FIN_WAIT1, 6 TIME_WAIT, 8 CLOSE_WAIT ...) and the bytes
/// queued to send.
struct TcpSocketState {
    int state = 0;
    unsigned long send_queue = 0;
};
/// The sockets whose local port is `port`, listening ones left out: a
/// server's connections, from the server's side.
std::vector<TcpSocketState> tcp_sockets_on_port(std::uint16_t port);

}  // namespace sockhost::testing
