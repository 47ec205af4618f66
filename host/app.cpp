// SPDX-License-Identifier: MIT
#include "host/app.hpp"

#include <signal.h>
#include <cstring>
#include <cerrno>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <sockhost/sdk/abi.hpp>

#include "host/cli.hpp"
#include "host/config.hpp"
#include "host/log.hpp"
#include "host/plugin_loader.hpp"
#include "host/servers/base_server.hpp"

namespace sockhost::host {

namespace {

using Clock = std::chrono::steady_clock;

/// "10 s", "0.5 s".
std::string format_seconds(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g s", s);
    return buf;
}

/// A server entry with everything resolved: its plugin and its factory.
struct Binding {
    const ServerConfig* config;
    std::shared_ptr<const LoadedPlugin> plugin;
    sdk::HandlerFactory factory;
};

/// The position to blame for a plugin's OptionError.
SourcePos option_position(const ServerConfig& s, const std::string& key) {
    auto it = s.option_pos.find(key);
    return it != s.option_pos.end() ? it->second : s.options_pos;
}

/// Loads every plugin and checks every binding; throws ConfigError.
std::vector<Binding> resolve_bindings(const Config& config, PluginRegistry& registry) {
    std::vector<Binding> bindings;
    for (const ServerConfig& s : config.servers) {
        Binding b{&s, nullptr, nullptr};
        try {
            b.plugin = registry.load(s.plugin);
        } catch (const PluginError& e) {
            throw ConfigError(s.plugin_pos, e.what());
        }
        const sdk::PluginInfo& info = b.plugin->info;
        const bool stream = s.listen.is_stream();
        if (!sdk::serves(info.transports, stream ? sdk::Transport::stream : sdk::Transport::datagram))
            throw ConfigError(s.listen_pos, "plugin '" + info.name + "' serves only " +
                                                (stream ? "datagram" : "stream") +
                                                " transports; it cannot serve " + s.listen.str());
        if (s.concurrency == Concurrency::event && !info.thread_safe)
            throw ConfigError(s.concurrency_pos, "plugin '" + info.name +
                                                     "' is not thread-safe; use concurrency = \"sync\"" +
                                                     (info.fork_safe ? " or \"forking\"" : ""));
        if (s.concurrency == Concurrency::threading && !info.thread_safe)
            throw ConfigError(s.concurrency_pos, "plugin '" + info.name +
                                                     "' is not thread-safe; use concurrency = "
                                                     "\"sync\"" +
                                                     (info.fork_safe ? " or \"forking\"" : ""));
        if (s.concurrency == Concurrency::forking && !info.fork_safe)
            throw ConfigError(s.concurrency_pos, "plugin '" + info.name +
                                                     "' is not fork-safe; use concurrency = \"sync\"" +
                                                     (info.thread_safe ? " or \"threading\"" : ""));
        try {
            info.validate_options(s.options);
            b.factory = info.make_factory(s.options);
        } catch (const sdk::OptionError& e) {
            throw ConfigError(option_position(s, e.key()),
                              "option '" + e.key() + "' (plugin " + info.name + "): " + e.what());
        } catch (const std::exception& e) {
            throw ConfigError(s.options_pos, "plugin '" + info.name + "' rejected its options: " + e.what());
        }
        if (!b.factory) throw ConfigError(s.plugin_pos, "plugin '" + info.name + "' made no handler factory");
        bindings.push_back(std::move(b));
    }
    return bindings;
}

void print_check(const Config& config, const std::vector<Binding>& bindings) {
    std::cout << "config OK: " << config.file.string() << " (" << bindings.size() << " server"
              << (bindings.size() == 1 ? "" : "s") << ")\n";
    for (const Binding& b : bindings)
        std::cout << "  " << b.config->name << ": " << b.config->listen.str() << " -> plugin "
                  << b.plugin->info.name << " " << b.plugin->info.version << " ("
                  << b.plugin->file.string() << "), " << to_string(b.config->concurrency) << "\n";
}

/// Blocks the signals the main thread waits for, before any thread starts,
/// so every thread inherits the mask and only sigwait() sees them.
sigset_t block_shutdown_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
    // A peer closing early must cost an EPIPE, never the process.
    ::signal(SIGPIPE, SIG_IGN);
    return set;
}

using Servers = std::vector<std::unique_ptr<BaseServer>>;

int run_servers(const Config& config, Servers& servers, const sigset_t& signals);
int supervise(const Config& config, Servers& servers, const sigset_t& signals);

/// Binds every server (nothing binds before all of them validated), logs
/// their addresses, then serves in this process or in worker processes.
int serve(const Config& config, std::vector<Binding>& bindings, const sigset_t& signals) {
    Servers servers;
    for (Binding& b : bindings) {
        auto server = make_server(*b.config, b.factory, b.plugin->info.protocol);
        try {
            server->open();
        } catch (const std::system_error& e) {
            std::cerr << ConfigError(b.config->listen_pos,
                                     "cannot listen on " + b.config->listen.str() + ": " + e.what())
                             .what()
                      << "\n";
            for (auto& s : servers) s->server_close(Clock::now());
            return 1;
        }
        servers.push_back(std::move(server));
    }
    for (size_t i = 0; i < servers.size(); ++i) {
        const auto& s = servers[i];
        log_info("", "server " + s->name() + " listening on " +
                         s->server_address().to_url(s->config().listen.is_stream()) + " (plugin " +
                         bindings[i].plugin->info.name + " " + bindings[i].plugin->info.version +
                         ", " + std::string(s->model_name()) + ")");
    }

    return config.host.workers > 0 ? supervise(config, servers, signals)
                                   : run_servers(config, servers, signals);
}

/// Runs every server's loop on its own thread until SIGTERM/SIGINT, then
/// stops them gracefully. The host process runs this, or each worker does.
int run_servers(const Config& config, Servers& servers, const sigset_t& signals) {
    // One loop thread per server; `running` counts those not yet returned so
    // the shutdown can wait for them with a deadline (a sync server runs its
    // request on the loop thread).
    std::mutex mutex;
    std::condition_variable cv;
    std::size_t running = servers.size();
    std::vector<std::thread> loops;
    for (auto& s : servers) {
        loops.emplace_back([&s, &mutex, &cv, &running] {
            try {
                s->serve_forever();
            } catch (const std::exception& e) {
                log_error(s->name(), std::string("server loop failed: ") + e.what());
            }
            std::lock_guard lock(mutex);
            --running;
            cv.notify_all();
        });
    }

    int sig = 0;
    while (::sigwait(&signals, &sig) != 0 || sig == SIGHUP) {
        if (sig == SIGHUP) log_info("", "SIGHUP ignored (plugins and config change only on restart)");
    }
    log_info("", std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") +
                     "; stopping (grace " + format_seconds(config.host.shutdown_timeout) + ")");

    const auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<long long>(
                                             config.host.shutdown_timeout * 1000));
    for (auto& s : servers) s->shutdown();
    bool loops_done;
    {
        std::unique_lock lock(mutex);
        loops_done = cv.wait_until(lock, deadline, [&] { return running == 0; });
    }
    std::size_t still = 0;
    if (loops_done) {
        for (auto& t : loops) t.join();
        for (auto& s : servers) still += s->server_close(deadline);
    } else {
        still = running;
    }
    if (still > 0) {
        // Threads cannot be cancelled safely: leave without running
        // destructors under their feet. Forked children were killed above.
        log_warning("", std::to_string(still) +
                            " request(s) still running after the grace period; exiting");
        std::fflush(nullptr);
        ::_exit(0);
    }
    log_info("", "stopped");
    return 0;
}

/// Pre-forked workers (like nginx's worker_processes): the sockets are bound
/// here and inherited; each worker runs every server; this process only
/// supervises. A worker that dies is logged and replaced; SIGTERM/SIGINT is
/// passed on to the workers, which drain, and whatever still runs after the
/// grace period (plus a second) is killed.
int supervise(const Config& config, Servers& servers, const sigset_t& signals) {
    sigset_t waited = signals;
    sigaddset(&waited, SIGCHLD);
    ::pthread_sigmask(SIG_BLOCK, &waited, nullptr);

    struct Worker {
        pid_t pid = -1;
        Clock::time_point started;
    };
    std::vector<Worker> workers(static_cast<std::size_t>(config.host.workers));
    const pid_t supervisor = ::getpid();
    auto spawn = [&](std::size_t slot) {
        pid_t pid = ::fork();
        if (pid < 0) {
            log_error("", std::string("cannot fork worker: ") + std::strerror(errno));
            return;
        }
        if (pid == 0) {
            // A worker never outlives its supervisor, even one killed by SIGKILL.
            ::prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (::getppid() != supervisor) ::_exit(0);
            // Worker: SIGCHLD back to normal (its forking servers and CGI
            // scripts wait for their own children); SIGINT/SIGTERM stay
            // blocked for run_servers' sigwait.
            sigset_t chld;
            sigemptyset(&chld);
            sigaddset(&chld, SIGCHLD);
            ::pthread_sigmask(SIG_UNBLOCK, &chld, nullptr);
            for (auto& s : servers) {
                s->keep_socket_file();
                s->renew_wakeup();
            }
            int rc = run_servers(config, servers, signals);
            std::fflush(nullptr);
            ::_exit(rc);
        }
        workers[slot] = {pid, Clock::now()};
        log_info("", "worker " + std::to_string(slot + 1) + " started (pid " + std::to_string(pid) + ")");
    };
    for (std::size_t i = 0; i < workers.size(); ++i) spawn(i);

    auto reap = [&](bool respawn) {
        for (std::size_t i = 0; i < workers.size(); ++i) {
            int status = 0;
            if (workers[i].pid <= 0 || ::waitpid(workers[i].pid, &status, WNOHANG) != workers[i].pid) continue;
            std::string how = WIFSIGNALED(status)
                                  ? "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
                                        ::strsignal(WTERMSIG(status)) + ")"
                                  : "exited with status " + std::to_string(WEXITSTATUS(status));
            if (!respawn) {
                log_info("", "worker " + std::to_string(i + 1) + " (pid " + std::to_string(workers[i].pid) + ") " + how);
                workers[i].pid = -1;
                continue;
            }
            log_error("", "worker " + std::to_string(i + 1) + " (pid " + std::to_string(workers[i].pid) + ") " +
                              how + "; starting a new one");
            // A worker dying at once (e.g. a plugin crashing at start-up)
            // must not turn into a fork loop.
            if (Clock::now() - workers[i].started < std::chrono::seconds(1))
                std::this_thread::sleep_for(std::chrono::milliseconds(500));
            workers[i].pid = -1;
            spawn(i);
        }
    };

    int sig = 0;
    for (;;) {
        siginfo_t info;
        sig = ::sigwaitinfo(&waited, &info);
        if (sig == SIGCHLD) {
            reap(true);
        } else if (sig == SIGINT || sig == SIGTERM) {
            break;
        } else if (sig == SIGHUP) {
            log_info("", "SIGHUP ignored (plugins and config change only on restart)");
        }
    }
    log_info("", std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") +
                     "; stopping the workers (grace " + format_seconds(config.host.shutdown_timeout) + ")");
    for (auto& w : workers)
        if (w.pid > 0) ::kill(w.pid, SIGTERM);
    const auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<long long>(
                                             config.host.shutdown_timeout * 1000 + 1000));
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    auto alive = [&] {
        for (auto& w : workers)
            if (w.pid > 0) return true;
        return false;
    };
    while (alive() && Clock::now() < deadline) {
        timespec slice{0, 100 * 1000 * 1000};
        ::sigtimedwait(&chld, nullptr, &slice);
        reap(false);
    }
    for (auto& w : workers) {
        if (w.pid <= 0) continue;
        log_warning("", "worker pid " + std::to_string(w.pid) + " still running after the grace period; killing it");
        ::kill(w.pid, SIGKILL);
        int status = 0;
        while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    for (auto& s : servers) s->server_close(Clock::now());
    log_info("", "stopped");
    return 0;
}

}  // namespace

int run_host(int argc, const char* const argv[]) {
    CommandLine cli;
    try {
        cli = parse_command_line(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "sockhost: " << e.what() << "\nTry 'sockhost --help'.\n";
        return 2;
    }
    if (cli.help) {
        std::cout << "Usage: sockhost [--config FILE] [--plugins-dir DIR] [--check] [--log-level L] "
                     "[--version] [--help]\n\n"
                  << cli.help_text;
        return 0;
    }
    if (cli.version) {
        std::cout << "sockhost " << SOCKHOST_VERSION << " (SDK ABI " << sdk::kAbiMajor << "."
                  << sdk::kAbiMinor << "; " << SOCKHOST_ABI_TOOLCHAIN << ")\n";
        return 0;
    }

    const sigset_t signals = block_shutdown_signals();
    try {
        Config config = load_config(cli.config);
        if (cli.plugins_dir) config.host.plugins_dir = std::filesystem::absolute(*cli.plugins_dir);
        if (cli.log_level) {
            auto level = parse_log_level(*cli.log_level);
            if (!level) {
                std::cerr << "sockhost: --log-level must be trace, debug, info, warning or error\n";
                return 2;
            }
            config.host.log_level = *level;
        }
        Log::set_level(config.host.log_level);

        PluginRegistry registry(config.host.plugins_dir);
        std::vector<Binding> bindings = resolve_bindings(config, registry);
        if (cli.check) {
            print_check(config, bindings);
            return 0;
        }
        return serve(config, bindings, signals);
    } catch (const ConfigError& e) {
        std::cerr << e.what() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "sockhost: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace sockhost::host
