// SPDX-License-Identifier: MIT
#include "host/serve.hpp"

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <system_error>
#include <thread>

#include "host/log.hpp"

namespace sockhost::host {

namespace {

using Clock = std::chrono::steady_clock;

/// The position to blame for a plugin's OptionError.
SourcePos option_position(const ServerConfig& s, const std::string& key) {
    auto it = s.option_pos.find(key);
    return it != s.option_pos.end() ? it->second : s.options_pos;
}

}  // namespace

void reopen_log_files() {
    const std::string error = Log::reopen_files();
    if (error.empty()) log_info("", "SIGUSR1: log files reopened");
    else log_error("", "SIGUSR1: cannot reopen " + error + "; writing on to the old file");
}

std::string format_seconds(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g s", s);
    return buf;
}

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

Servers make_servers(const std::vector<Binding>& bindings, const std::vector<int>* listeners) {
    Servers servers;
    for (std::size_t i = 0; i < bindings.size(); ++i) {
        const Binding& b = bindings[i];
        auto server = make_server(*b.config, b.factory, b.plugin->info.protocol);
        server->set_plugin_abi_minor(b.plugin->abi_minor);
        if (listeners != nullptr) {
            server->adopt((*listeners)[i]);
        } else {
            try {
                server->open();
            } catch (const std::system_error& e) {
                for (auto& s : servers) s->server_close(Clock::now());
                throw ConfigError(b.config->listen_pos, "cannot listen on " + b.config->listen.str() + ": " + e.what());
            }
        }
        server->set_client_speaks_first(b.plugin->info.client_speaks_first);
        servers.push_back(std::move(server));
    }
    return servers;
}

void log_listening(const Servers& servers, const std::vector<Binding>& bindings, const std::string& suffix) {
    for (std::size_t i = 0; i < servers.size(); ++i) {
        const auto& s = servers[i];
        log_info("", "server " + s->name() + " listening on " +
                         s->server_address().to_url(s->config().listen.is_stream()) + " (plugin " +
                         bindings[i].plugin->info.name + " " + bindings[i].plugin->info.version + ", " +
                         std::string(s->model_name()) + ")" + suffix);
    }
}

sigset_t block_host_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGUSR1);
    ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    return set;
}

void apply_log_settings(const HostConfig& host) {
    Log::set_access_format(host.access_log_format);
    const std::string error = Log::open_files(host.error_log, host.access_log);
    if (!error.empty())
        throw ConfigError(error.starts_with("error_log") ? host.error_log_pos : host.access_log_pos,
                          "cannot open " + error);
}

/// Runs every server's loop on its own thread until SIGTERM/SIGINT, then
/// stops them gracefully. The host process runs this, or each worker does.
int run_servers(const Config& config, Servers& servers, const sigset_t& signals,
                const std::function<void()>& on_draining) {
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
    while (::sigwait(&signals, &sig) != 0 || sig == SIGHUP || sig == SIGUSR2 || sig == SIGUSR1) {
        if (sig == SIGHUP || sig == SIGUSR2)
            log_info("", std::string(sig == SIGHUP ? "SIGHUP" : "SIGUSR2") +
                             " ignored: reloading needs a supervisor (workers >= 1)");
        if (sig == SIGUSR1) reopen_log_files();
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
        for (auto& s : servers) s->stop_accepting();
        if (on_draining) on_draining();
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

}  // namespace sockhost::host
