// SPDX-License-Identifier: MIT
#include "host/supervisor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <set>
#include <system_error>

#include "host/log.hpp"
#include "host/pid_file.hpp"
#include "host/plugin_loader.hpp"
#include "host/serve.hpp"
#include "host/systemd/activation.hpp"
#include "host/systemd/notify.hpp"

namespace sockhost::host {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

/// What a SIGUSR2 upgrade hands to the new image: the serving generation's
/// number and workers, and each listening socket with its key,
/// "G;pid,pid;fd:hexkey,fd:hexkey".
constexpr const char* kInheritVariable = "SOCKHOST_INHERIT";

std::string hex_encode(std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : text) {
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
    return out;
}

std::string hex_decode(std::string_view hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
    return out;
}

std::vector<std::string> split(std::string_view text, char sep) {
    std::vector<std::string> out;
    while (true) {
        const std::size_t at = text.find(sep);
        if (!text.substr(0, at).empty()) out.emplace_back(text.substr(0, at));
        if (at == std::string_view::npos) return out;
        text.remove_prefix(at + 1);
    }
}

/// How long a new generation's workers may take to load their plugins and
/// make their servers before the start (or reload) counts as failed.
constexpr auto kReadyTimeout = 30s;
/// Longest wait for an old generation's workers to stop accepting.
constexpr auto kStopAcceptingWait = 5s;
/// Longest pause before replacing a worker that keeps dying at once.
constexpr auto kMaxRespawnPause = 30s;

/// Writes all of `text` to `fd` (a pipe to the supervisor), ignoring errors.
void write_all(int fd, std::string_view text) {
    while (!text.empty()) {
        const ssize_t n = ::write(fd, text.data(), text.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        text.remove_prefix(static_cast<std::size_t>(n));
    }
}

/// Everything a child writes to `fd` until it closes it or `deadline`.
std::string read_until_closed(int fd, Clock::time_point deadline, bool stop_at_newline) {
    std::string out;
    for (;;) {
        if (stop_at_newline && out.find('\n') != std::string::npos) return out;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return out;
        pollfd p{fd, POLLIN, 0};
        const int r = ::poll(&p, 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return out;
        char buf[4096];
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return out;
        out.append(buf, static_cast<std::size_t>(n));
    }
}

/// In a child, right after fork: a child never outlives the supervisor, even
/// one killed by SIGKILL.
void die_with_parent(pid_t parent) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(0);
}

void wait_for(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
}

std::string describe_exit(int status) {
    if (WIFSIGNALED(status))
        return "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" + ::strsignal(WTERMSIG(status)) + ")";
    return "exited with status " + std::to_string(WEXITSTATUS(status));
}

}  // namespace

Config load_config_with(const std::filesystem::path& file, const ConfigOverrides& overrides) {
    Config config = load_config(file);
    if (overrides.plugins_dir) config.host.plugins_dir = *overrides.plugins_dir;
    if (overrides.log_level) config.host.log_level = *overrides.log_level;
    return config;
}

std::string listener_key(const ServerConfig& s) {
    std::string key = s.listen.str();
    // Port 0 asks for a new ephemeral port: two such servers are two
    // sockets, and a server keeps its own across reloads.
    if (!s.listen.is_unix() && s.listen.port == 0) key += "#" + s.name;
    key += "|reuse_address=" + std::to_string(s.allow_reuse_address);
    key += "|reuse_port=" + std::to_string(s.allow_reuse_port);
    key += "|backlog=" + std::to_string(s.request_queue_size);
    key += "|v6only=" + std::string(s.ipv6_only ? (*s.ipv6_only ? "1" : "0") : "-");
    return key;
}

Supervisor::Supervisor(std::filesystem::path file, ConfigOverrides overrides, Config config, sigset_t signals,
                       std::vector<std::string> argv)
    : file_(std::filesystem::absolute(file)),
      overrides_(std::move(overrides)),
      first_(std::make_shared<const Config>(std::move(config))),
      host_signals_(signals),
      signals_(signals),
      self_(::getpid()),
      argv_(std::move(argv)) {
    // The file this process runs, by path: an upgrade executes whatever is
    // there by then.
    std::error_code ec;
    std::string exe = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    constexpr std::string_view kDeleted = " (deleted)";
    if (exe.size() > kDeleted.size() && exe.ends_with(kDeleted)) exe.resize(exe.size() - kDeleted.size());
    binary_ = exe;
    sigaddset(&signals_, SIGCHLD);
    ::pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
}

Supervisor::~Supervisor() = default;

// --- Start ---------------------------------------------------------------------------

int Supervisor::run(const std::filesystem::path& pid_file) {
    // Executed by a SIGUSR2 upgrade: the sockets and the serving generation
    // come from the image before.
    if (const char* text = std::getenv(kInheritVariable)) {
        const std::string inherited = text;
        ::unsetenv(kInheritVariable);
        if (adopt_inherited(inherited)) return supervise(pid_file);
        return 1;
    }
    // Sockets a service manager passed (socket activation) serve their
    // bindings in place of binding anew; taken first, so no child sees them.
    const std::vector<systemd::PassedSocket> passed = systemd::take_passed_sockets();
    // Every mistake is reported before anything binds: the plugins are
    // loaded and checked in a child, never here.
    if (std::optional<std::string> error = check_plugins(*first_)) {
        std::cerr << *error << "\n";
        return 1;
    }
    try {
        const std::vector<std::size_t> match = systemd::match_passed_sockets(passed, *first_);
        for (std::size_t i = 0; i < passed.size(); ++i) {
            const ServerConfig& s = first_->servers[match[i]];
            auto socket = make_server(s, sdk::HandlerFactory{}, sdk::Protocol::raw);
            socket->adopt(passed[i].fd);   // its socket file, if any, stays the manager's
            listeners_.emplace(listener_key(s), Listener{std::move(socket)});
            log_info("", "server " + s.name + ": serving the socket passed as descriptor " +
                             std::to_string(passed[i].fd) + " (socket activation)");
        }
    } catch (const ConfigError& e) {
        std::cerr << e.what() << "\n";
        return 1;
    }
    Generation first;
    first.number = next_number_++;
    first.config = first_;
    std::vector<std::string> opened;
    if (std::optional<std::string> error = open_listeners(*first_, first.keys, opened)) {
        std::cerr << *error << "\n";
        close_listeners(opened);
        return 1;
    }
    if (std::optional<std::string> error = start_generation(first)) {
        std::cerr << *error << "\n";
        close_listeners(opened);
        return 1;
    }
    generations_.push_back(std::move(first));
    if (!pid_file.empty()) {
        try {
            write_pid_file(pid_file);
        } catch (const std::exception& e) {
            log_error("", std::string("pid_file: ") + e.what());
        }
    }
    return supervise(pid_file);
}

int Supervisor::supervise(const std::filesystem::path& pid_file) {
    // Every binding accepts: systemd may send traffic (Type=notify).
    systemd::notify("READY=1\nSTATUS=generation " + std::to_string(serving().number) + " serving");
    struct RemovePidFile {
        const std::filesystem::path& path;
        ~RemovePidFile() { remove_pid_file(path); }
    } remove_at_exit{pid_file};

    for (;;) {
        // Wake at least every 100 ms: drain deadlines, pending respawns.
        timespec slice{0, 100 * 1000 * 1000};
        siginfo_t info;
        const int sig = ::sigtimedwait(&signals_, &info, &slice);
        if (sig == SIGINT || sig == SIGTERM) return stop(sig);
        if (sig == SIGHUP) reload();
        if (sig == SIGUSR2) upgrade();
        if (sig == SIGUSR1) reopen_logs();
        reap();
        respawn_due();
        const auto now = Clock::now();
        for (Generation& g : generations_) {
            if (!g.draining || now < g.drain_deadline) continue;
            for (Worker& w : g.workers) {
                if (w.pid <= 0) continue;
                log_warning("", "generation " + std::to_string(g.number) + ": worker pid " +
                                    std::to_string(w.pid) + " still running after the grace period; killing it");
                ::kill(w.pid, SIGKILL);
            }
        }
    }
}

std::optional<std::string> Supervisor::check_plugins(const Config& config) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) return std::string("sockhost: pipe: ") + std::strerror(errno);
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        return std::string("sockhost: fork: ") + std::strerror(errno);
    }
    if (pid == 0) {
        die_with_parent(self_);
        ::close(fds[0]);
        std::string error;
        try {
            PluginRegistry registry(config.host.plugins_dir);
            (void)resolve_bindings(config, registry);
        } catch (const std::exception& e) {
            error = e.what();
        }
        write_all(fds[1], error);
        ::_exit(error.empty() ? 0 : 1);
    }
    ::close(fds[1]);
    std::string error = read_until_closed(fds[0], Clock::now() + kReadyTimeout, false);
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!error.empty()) return error;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return "sockhost: loading the plugins failed: the checking process " + describe_exit(status);
    return std::nullopt;
}

std::optional<std::string> Supervisor::open_listeners(const Config& config, std::vector<std::string>& keys,
                                                      std::vector<std::string>& opened) {
    keys.clear();
    for (const ServerConfig& s : config.servers) {
        std::string key = listener_key(s);
        for (std::size_t i = 0; i < keys.size(); ++i)
            if (keys[i] == key)
                return ConfigError(s.listen_pos, "cannot listen on " + s.listen.str() + ": server '" +
                                                     config.servers[i].name + "' listens there already")
                    .what();
        keys.push_back(key);
        if (listeners_.count(key)) continue;   // handed over, never closed
        auto socket = make_server(s, sdk::HandlerFactory{}, sdk::Protocol::raw);
        try {
            socket->open();
        } catch (const std::system_error& e) {
            return ConfigError(s.listen_pos, "cannot listen on " + s.listen.str() + ": " + e.what()).what();
        }
        listeners_.emplace(key, Listener{std::move(socket)});
        opened.push_back(std::move(key));
    }
    return std::nullopt;
}

// --- Workers --------------------------------------------------------------------------

pid_t Supervisor::spawn(const Generation& generation, std::size_t slot, int ready_fd) {
    const pid_t pid = ::fork();
    if (pid != 0) return pid;   // the supervisor (or -1)

    // The worker: it loads the plugins itself (a fresh process, so a replaced
    // .so is the one loaded), serves on its generation's sockets, and
    // closes every other listening socket it inherited, so that an address
    // dropped by a reload is really closed once its old workers are gone.
    die_with_parent(self_);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    ::pthread_sigmask(SIG_UNBLOCK, &chld, nullptr);   // its forking servers and CGI scripts wait for children
    const Config& config = *generation.config;
    std::vector<int> fds;
    std::set<int> mine;
    for (const std::string& key : generation.keys) {
        const int fd = listeners_.at(key).socket->fileno();
        fds.push_back(fd);
        mine.insert(fd);
    }
    for (const auto& [key, listener] : listeners_)
        if (!mine.count(listener.socket->fileno())) ::close(listener.socket->fileno());
    int rc = 1;
    try {
        Log::set_level(config.host.log_level);
        PluginRegistry registry(config.host.plugins_dir);
        std::vector<Binding> bindings = resolve_bindings(config, registry);
        Servers servers = make_servers(bindings, &fds);
        if (slot == 0) log_listening(servers, bindings, " [generation " + std::to_string(generation.number) + "]");
        write_all(ready_fd, "ready\n");
        // The same pipe says when this worker has stopped accepting: the
        // supervisor declares a new generation serving only then.
        rc = run_servers(config, servers, host_signals_, [ready_fd] {
            write_all(ready_fd, "draining\n");
            ::close(ready_fd);
        });
    } catch (const std::exception& e) {
        write_all(ready_fd, e.what());
    }
    std::fflush(nullptr);
    ::_exit(rc);
}

std::optional<std::string> Supervisor::start_generation(Generation& generation) {
    const std::size_t count = static_cast<std::size_t>(generation.config->host.workers);
    generation.workers.assign(count, Worker{});
    std::vector<int> readers(count, -1);
    std::optional<std::string> error;
    for (std::size_t i = 0; i < count && !error; ++i) {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) < 0) {
            error = std::string("sockhost: pipe: ") + std::strerror(errno);
            break;
        }
        const pid_t pid = spawn(generation, i, fds[1]);
        ::close(fds[1]);
        if (pid < 0) {
            ::close(fds[0]);
            error = std::string("sockhost: cannot fork a worker: ") + std::strerror(errno);
            break;
        }
        generation.workers[i] = Worker{.pid = pid, .started = Clock::now(), .respawn_at = std::nullopt};
        readers[i] = fds[0];
    }
    // Ready = each worker loaded its plugins and made its servers.
    const auto deadline = Clock::now() + kReadyTimeout;
    for (std::size_t i = 0; i < count; ++i) {
        if (readers[i] < 0) continue;
        if (!error) {
            const std::string said = read_until_closed(readers[i], deadline, true);
            if (said != "ready\n") {
                error = said.empty() ? "sockhost: worker " + std::to_string(i + 1) + " (pid " +
                                           std::to_string(generation.workers[i].pid) + ") did not start"
                                     : said;
            }
        }
        generation.workers[i].control = readers[i];
    }
    if (!error) {
        for (std::size_t i = 0; i < count; ++i)
            log_info("", "generation " + std::to_string(generation.number) + ": worker " + std::to_string(i + 1) +
                             " started (pid " + std::to_string(generation.workers[i].pid) + ")");
        return std::nullopt;
    }
    for (Worker& w : generation.workers) {
        close_control(w);
        if (w.pid <= 0) continue;
        ::kill(w.pid, SIGKILL);
        wait_for(w.pid);
        w.pid = -1;
    }
    return error;
}

void Supervisor::reap() {
    for (;;) {
        int status = 0;
        const pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid <= 0) return;
        for (Generation& g : generations_) {
            const bool serving_generation = &g == &serving();
            for (std::size_t i = 0; i < g.workers.size(); ++i) {
                Worker& w = g.workers[i];
                if (w.pid != pid) continue;
                w.pid = -1;
                close_control(w);
                const std::string who = "generation " + std::to_string(g.number) + ": worker " +
                                        std::to_string(i + 1) + " (pid " + std::to_string(pid) + ") ";
                if (!serving_generation || g.draining) {
                    log_info("", who + describe_exit(status));
                    continue;
                }
                // A worker dying at once (a plugin crashing at start-up) must
                // not turn into a fork loop: a pause that doubles each time.
                w.quick_deaths = Clock::now() - w.started < 1s ? w.quick_deaths + 1 : 0;
                const auto pause = w.quick_deaths == 0
                                       ? Clock::duration::zero()
                                       : std::min<Clock::duration>(250ms * (1 << std::min(w.quick_deaths, 7)),
                                                                   kMaxRespawnPause);
                w.respawn_at = Clock::now() + pause;
                log_error("", who + describe_exit(status) + "; starting a new one");
            }
        }
        // Generations whose workers are all gone are over.
        std::erase_if(generations_, [&](const Generation& g) {
            if (&g == &generations_.back()) return false;
            for (const Worker& w : g.workers)
                if (w.pid > 0) return false;
            log_info("", "generation " + std::to_string(g.number) + " has exited");
            return true;
        });
        close_unused_listeners();
    }
}

void Supervisor::respawn_due() {
    Generation& g = serving();
    const auto now = Clock::now();
    for (std::size_t i = 0; i < g.workers.size(); ++i) {
        Worker& w = g.workers[i];
        if (w.pid > 0 || !w.respawn_at || now < *w.respawn_at) continue;
        w.respawn_at.reset();
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) < 0) continue;
        const pid_t pid = spawn(g, i, fds[1]);
        ::close(fds[1]);
        w.control = fds[0];   // a replacement is not waited for: it serves when it is ready
        if (pid < 0) {
            close_control(w);
            log_error("", std::string("cannot fork a worker: ") + std::strerror(errno));
            w.respawn_at = now + 1s;
            continue;
        }
        w.pid = pid;
        w.started = now;
        log_info("", "generation " + std::to_string(g.number) + ": worker " + std::to_string(i + 1) +
                         " started (pid " + std::to_string(pid) + ")");
    }
}

// --- Reload ----------------------------------------------------------------------------

void Supervisor::reload() {
    const int current = serving().number;
    log_info("", "SIGHUP: reloading " + file_.string());
    systemd::notify_reloading();
    // Whatever comes of it, a generation serves when this returns.
    struct Ready {
        Supervisor& self;
        ~Ready() {
            systemd::notify("READY=1\nSTATUS=generation " + std::to_string(self.serving().number) + " serving");
        }
    } ready{*this};
    std::shared_ptr<const Config> config;
    try {
        config = std::make_shared<const Config>(load_config_with(file_, overrides_));
    } catch (const std::exception& e) {
        log_error("", std::string(e.what()) + "; generation " + std::to_string(current) + " serves on");
        return;
    }
    Generation next;
    next.number = next_number_;
    next.config = config;
    std::vector<std::string> opened;
    take_over(next, opened, "reload");
}

bool Supervisor::take_over(Generation& next, std::vector<std::string>& opened, const std::string& what) {
    const int current = serving().number;
    std::optional<std::string> error = open_listeners(*next.config, next.keys, opened);
    if (!error) error = switch_log_files(next.config->host);   // the new workers inherit them
    if (!error) error = start_generation(next);
    if (error) {
        close_listeners(opened);
        switch_log_files(serving().config->host);
        log_error("", what + " failed: " + *error + "; generation " + std::to_string(current) + " serves on");
        return false;
    }
    next_number_ = next.number + 1;
    Log::set_level(next.config->host.log_level);
    for (Generation& g : generations_)
        if (!g.draining) drain(g);
    generations_.push_back(std::move(next));
    log_info("", "generation " + std::to_string(serving().number) + " serves; generation " +
                     std::to_string(current) + " drains");
    return true;
}

std::optional<std::string> Supervisor::switch_log_files(const HostConfig& host) {
    try {
        apply_log_settings(host);
    } catch (const ConfigError& e) {
        return std::string(e.what());
    }
    return std::nullopt;
}

void Supervisor::reopen_logs() {
    // Here first, then in every worker (each holds its own descriptors).
    reopen_log_files();
    for (Generation& g : generations_)
        for (Worker& w : g.workers)
            if (w.pid > 0) ::kill(w.pid, SIGUSR1);
}

void Supervisor::drain(Generation& g) {
    // The old workers stop accepting, finish what they serve (keep-alive
    // answers say Connection: close) and exit; the sockets stay open here.
    g.draining = true;
    g.drain_deadline = Clock::now() + std::chrono::milliseconds(static_cast<long long>(
                                          g.config->host.shutdown_timeout * 1000 + 1000));
    for (Worker& w : g.workers) {
        w.respawn_at.reset();
        if (w.pid > 0) ::kill(w.pid, SIGTERM);
    }
    // Until each has stopped accepting (it says "draining", or dies), so
    // that every connection made after this goes to the next generation.
    // Bounded: a worker stuck in a request still has its sockets closed by
    // its SIGTERM handling soon after.
    const auto until = Clock::now() + kStopAcceptingWait;
    for (Worker& w : g.workers) {
        if (w.control < 0) continue;
        std::string said;
        while (said.find("draining\n") == std::string::npos) {
            const std::string more = read_until_closed(w.control, until, true);
            if (more.empty()) break;   // closed, or the wait ran out
            said += more;
        }
        close_control(w);
    }
}

void Supervisor::close_control(Worker& w) {
    if (w.control >= 0) ::close(w.control);
    w.control = -1;
}

void Supervisor::close_unused_listeners() {
    std::set<std::string> used;
    for (const Generation& g : generations_) used.insert(g.keys.begin(), g.keys.end());
    std::vector<std::string> unused;
    for (const auto& [key, listener] : listeners_)
        if (!used.count(key)) unused.push_back(key);
    for (const std::string& key : unused) {
        const std::string listen = listeners_.at(key).socket->config().listen.str();
        close_listeners({key});
        log_info("", "closed " + listen + " (no longer configured)");
    }
}

void Supervisor::close_listeners(const std::vector<std::string>& keys) {
    for (const std::string& key : keys) {
        auto it = listeners_.find(key);
        if (it == listeners_.end()) continue;
        it->second.socket->server_close(Clock::now());   // removes a Unix socket file we made
        listeners_.erase(it);
    }
}

// --- Binary upgrade ------------------------------------------------------------------

void Supervisor::upgrade() {
    const int current = serving().number;
    log_info("", "SIGUSR2: upgrading to " + binary_.string());
    // The new binary must run and accept the config, checked in a child
    // before this image is given up.
    std::vector<std::string> check = {binary_.string(), "--check", "--config", file_.string()};
    if (overrides_.plugins_dir) check.insert(check.end(), {"--plugins-dir", overrides_.plugins_dir->string()});
    if (overrides_.log_level) {
        static constexpr const char* kLevels[] = {"trace", "debug", "info", "warning", "error"};
        check.insert(check.end(), {"--log-level", kLevels[static_cast<int>(*overrides_.log_level)]});
    }
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) return;
    const pid_t pid = ::fork();
    if (pid == 0) {
        die_with_parent(self_);
        ::dup2(fds[1], STDOUT_FILENO);
        ::dup2(fds[1], STDERR_FILENO);
        std::vector<char*> args;
        for (std::string& a : check) args.push_back(a.data());
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        const std::string why = "cannot execute " + check[0] + ": " + std::strerror(errno) + "\n";
        write_all(STDERR_FILENO, why);
        ::_exit(127);
    }
    ::close(fds[1]);
    std::string said = pid > 0 ? read_until_closed(fds[0], Clock::now() + kReadyTimeout, false) : std::string();
    ::close(fds[0]);
    int status = 0;
    if (pid > 0) {
        ::kill(pid, SIGKILL);   // gone already unless it hangs
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        while (!said.empty() && said.back() == '\n') said.pop_back();
        log_error("", "binary upgrade failed: " + check[0] + " --check: " +
                          (said.empty() ? describe_exit(status) : said) + "; generation " + std::to_string(current) +
                          " serves on");
        return;
    }

    // Hand over: the listening sockets survive the exec, the workers stay
    // this process's children (the pid does not change).
    std::string inherit = std::to_string(current) + ";";
    for (const Worker& w : serving().workers)
        if (w.pid > 0) inherit += std::to_string(w.pid) + ",";
    inherit += ";";
    for (const auto& [key, listener] : listeners_) {
        const int fd = listener.socket->fileno();
        ::fcntl(fd, F_SETFD, 0);
        inherit += std::to_string(fd) + ":" + hex_encode(key) + ",";
    }
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
    env.push_back(std::string(kInheritVariable) + "=" + inherit);
    std::vector<char*> envp;
    for (std::string& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv = argv_;
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    systemd::notify_reloading();
    ::execve(binary_.c_str(), args.data(), envp.data());
    // Still here: the exec failed.
    const int err = errno;
    for (const auto& [key, listener] : listeners_) ::fcntl(listener.socket->fileno(), F_SETFD, FD_CLOEXEC);
    log_error("", "binary upgrade failed: exec " + binary_.string() + ": " + std::strerror(err) + "; generation " +
                      std::to_string(current) + " serves on");
    systemd::notify("READY=1\nSTATUS=generation " + std::to_string(current) + " serving");
}

bool Supervisor::adopt_inherited(const std::string& inherited) {
    const std::vector<std::string> parts = split(inherited, ';');
    Generation old;
    std::vector<std::pair<int, std::string>> sockets;
    try {
        old.number = std::stoi(parts.at(0));
        if (parts.size() > 1)
            for (const std::string& pid : split(parts[1], ','))
                old.workers.push_back(Worker{.pid = static_cast<pid_t>(std::stol(pid)), .started = Clock::now(), .respawn_at = std::nullopt});
        if (parts.size() > 2)
            for (const std::string& item : split(parts[2], ',')) {
                const std::size_t colon = item.find(':');
                sockets.emplace_back(std::stoi(item.substr(0, colon)), hex_decode(item.substr(colon + 1)));
            }
    } catch (const std::exception&) {
        std::cerr << "sockhost: " << kInheritVariable << " is malformed: " << inherited << "\n";
        return false;
    }
    // The sockets this configuration still has; the others are closed here
    // (the old workers hold their own until they exit).
    std::set<std::string> wanted;
    for (const ServerConfig& s : first_->servers) wanted.insert(listener_key(s));
    for (const auto& [fd, key] : sockets) {
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        const auto server = std::find_if(first_->servers.begin(), first_->servers.end(),
                                         [&](const ServerConfig& s) { return listener_key(s) == key; });
        if (server == first_->servers.end()) {
            ::close(fd);
            continue;
        }
        auto socket = make_server(*server, sdk::HandlerFactory{}, sdk::Protocol::raw);
        socket->adopt(fd);
        listeners_.emplace(key, Listener{std::move(socket)});
    }
    log_info("", "binary upgrade: " + binary_.string() + " adopted generation " + std::to_string(old.number) +
                     " (" + std::to_string(old.workers.size()) + " worker(s)) and " +
                     std::to_string(listeners_.size()) + " listening socket(s)");
    // The adopted generation serves until the new one is ready (it is
    // replaced with this configuration if one of its workers dies meanwhile).
    std::vector<std::string> opened;
    old.config = first_;
    if (std::optional<std::string> error = open_listeners(*first_, old.keys, opened)) log_error("", *error);
    next_number_ = old.number + 1;
    generations_.push_back(std::move(old));
    Generation next;
    next.number = next_number_;
    next.config = first_;
    std::vector<std::string> opened_next;
    take_over(next, opened_next, "binary upgrade");
    return true;
}

// --- Stop ------------------------------------------------------------------------------

bool Supervisor::any_worker_alive() const {
    for (const Generation& g : generations_)
        for (const Worker& w : g.workers)
            if (w.pid > 0) return true;
    return false;
}

int Supervisor::stop(int signal) {
    const double grace = serving().config->host.shutdown_timeout;
    systemd::notify("STOPPING=1\nSTATUS=stopping");
    log_info("", std::string("received ") + (signal == SIGINT ? "SIGINT" : "SIGTERM") +
                     "; stopping the workers (grace " + format_seconds(grace) + ")");
    for (Generation& g : generations_) {
        for (Worker& w : g.workers) {
            w.respawn_at.reset();
            close_control(w);
            if (w.pid > 0) ::kill(w.pid, SIGTERM);
        }
    }
    const auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<long long>(grace * 1000 + 1000));
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    while (any_worker_alive() && Clock::now() < deadline) {
        timespec slice{0, 100 * 1000 * 1000};
        ::sigtimedwait(&chld, nullptr, &slice);
        for (Generation& g : generations_) {
            for (Worker& w : g.workers) {
                int status = 0;
                if (w.pid > 0 && ::waitpid(w.pid, &status, WNOHANG) == w.pid) {
                    log_info("", "generation " + std::to_string(g.number) + ": worker pid " +
                                     std::to_string(w.pid) + " " + describe_exit(status));
                    w.pid = -1;
                }
            }
        }
    }
    for (Generation& g : generations_) {
        for (Worker& w : g.workers) {
            if (w.pid <= 0) continue;
            log_warning("", "worker pid " + std::to_string(w.pid) + " still running after the grace period; killing it");
            ::kill(w.pid, SIGKILL);
            wait_for(w.pid);
            w.pid = -1;
        }
    }
    std::vector<std::string> all;
    for (const auto& [key, listener] : listeners_) all.push_back(key);
    close_listeners(all);
    log_info("", "stopped");
    return 0;
}

}  // namespace sockhost::host
