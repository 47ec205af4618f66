// SPDX-License-Identifier: MIT
// The supervisor: the host process when `workers` >= 1 (the default), as
// nginx's master. It binds and holds the listening sockets and runs
// generations of worker processes; it never loads a plugin itself, so a
// worker forked after a `.so` was replaced loads the new one.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "host/config.hpp"
#include "host/servers/base_server.hpp"

namespace sockhost::host {

/// What the command line overrides in every configuration read.
struct ConfigOverrides {
    std::optional<std::filesystem::path> plugins_dir;
    std::optional<sdk::LogLevel> log_level;
};

/// Reads `file` with the command line's overrides applied; throws ConfigError.
Config load_config_with(const std::filesystem::path& file, const ConfigOverrides& overrides);

/// A generation is the set of workers serving one reading of servers.toml:
///
///   start    check the plugins in a fresh process, bind every address,
///            start generation 1 and wait until each worker is ready
///   SIGHUP   read servers.toml again; bind only new addresses (a socket
///            whose listen string and options are unchanged is handed over,
///            never closed: nothing queued on it is lost); start the next
///            generation and wait until it is ready; then the old one drains
///            (stops accepting, finishes in-flight requests, bounded by its
///            shutdown_timeout) and exits; addresses no longer configured are
///            closed once it is gone. Any error (the file, a plugin, a bind,
///            a worker that fails to start) is logged and the old generation
///            serves on, untouched.
///   SIGCHLD  a worker of the serving generation that died is replaced, with
///            a growing pause when it keeps dying at once
///   SIGUSR2  binary upgrade: the binary the host was started from (which
///            may have been replaced) is run with --check on the config; if
///            that passes, it is executed in place of this one (the pid stays,
///            so systemd's MAINPID and the pid file stay valid), inheriting
///            the listening sockets and the serving generation's workers; it
///            starts its own generation, and only once that is ready does the
///            old one drain. A failed check, or a failed exec, is logged and
///            the old generation serves on.
///   SIGTERM  every generation drains; whatever still runs after
///   SIGINT   shutdown_timeout (plus a second) is killed
class Supervisor {
public:
    /// `argv`: the command line, for re-executing the binary at SIGUSR2.
    Supervisor(std::filesystem::path file, ConfigOverrides overrides, Config config, sigset_t signals,
               std::vector<std::string> argv);
    ~Supervisor();
    Supervisor(const Supervisor&) = delete;
    Supervisor& operator=(const Supervisor&) = delete;

    /// Starts generation 1 and supervises until SIGTERM/SIGINT; writes
    /// `pid_file` (when set) once generation 1 serves, and removes it at the
    /// end. Returns the exit status: 1 when the start failed (reported on
    /// stderr), else 0.
    int run(const std::filesystem::path& pid_file);

private:
    /// The loop after a start or an upgrade.
    int supervise(const std::filesystem::path& pid_file);
    using Clock = std::chrono::steady_clock;

    struct Worker {
        pid_t pid = -1;
        int control = -1;                       // the read end of its pipe: "ready", then "draining"
        Clock::time_point started{};
        int quick_deaths = 0;                   // died within a second of starting, in a row
        std::optional<Clock::time_point> respawn_at;   // dead, to be replaced then
    };
    struct Generation {
        int number = 0;
        std::shared_ptr<const Config> config;
        std::vector<std::string> keys;          // the listener of each server, in order
        std::vector<Worker> workers;
        bool draining = false;
        Clock::time_point drain_deadline{};
    };
    /// A listening socket, bound by a server object that never serves.
    struct Listener {
        std::unique_ptr<BaseServer> socket;
    };

    std::optional<std::string> check_plugins(const Config& config);
    std::optional<std::string> open_listeners(const Config& config, std::vector<std::string>& keys,
                                              std::vector<std::string>& opened);
    std::optional<std::string> start_generation(Generation& generation);
    pid_t spawn(const Generation& generation, std::size_t slot, int ready_fd);
    void reload();
    /// Replaces the serving generation with `next` (started and ready), or
    /// logs `what` failed and keeps it.
    bool take_over(Generation& next, std::vector<std::string>& opened, const std::string& what);
    void upgrade();
    /// Run after an upgrade: adopts the inherited sockets and workers.
    bool adopt_inherited(const std::string& inherited);
    void reap();
    void respawn_due();
    /// Sends the generation's workers SIGTERM and waits (bounded) until each
    /// has stopped accepting.
    void drain(Generation& generation);
    /// [host] error_log / access_log of `host` in place here (before a
    /// generation forks, so its workers inherit them).
    std::optional<std::string> switch_log_files(const HostConfig& host);
    /// SIGUSR1: reopen here and tell every worker to.
    void reopen_logs();
    static void close_control(Worker& w);
    void close_unused_listeners();
    void close_listeners(const std::vector<std::string>& keys);
    int stop(int signal);
    bool any_worker_alive() const;
    Generation& serving() { return generations_.back(); }

    std::filesystem::path file_;
    ConfigOverrides overrides_;
    std::shared_ptr<const Config> first_;
    sigset_t host_signals_;   // what run_servers waits for (in a worker)
    sigset_t signals_;        // ... and SIGCHLD: what the supervisor waits for
    std::map<std::string, Listener> listeners_;   // by listener_key()
    std::vector<Generation> generations_;          // the last one serves; earlier ones drain
    int next_number_ = 1;
    pid_t self_;
    std::filesystem::path binary_;        // the file this host was started from
    std::vector<std::string> argv_;
};

/// Equal keys share one listening socket across generations: the listen
/// string and every option that shapes the socket.
std::string listener_key(const ServerConfig& server);

}  // namespace sockhost::host
