// SPDX-License-Identifier: MIT
// Serving a configuration in this process: its plugins loaded and checked,
// its servers made (bound here, or adopting sockets a supervisor bound), and
// their loops run until SIGTERM/SIGINT. The host process does this when
// `workers = 0`; otherwise every worker process does it.
#pragma once

#include <signal.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <sockhost/sdk/plugin.hpp>

#include "host/config.hpp"
#include "host/plugin_loader.hpp"
#include "host/servers/base_server.hpp"

namespace sockhost::host {

/// A server entry with everything resolved: its plugin and its factory.
struct Binding {
    const ServerConfig* config;
    std::shared_ptr<const LoadedPlugin> plugin;
    sdk::HandlerFactory factory;
};

/// Loads every plugin and checks every binding (transports, thread and
/// fork safety, options); throws ConfigError.
std::vector<Binding> resolve_bindings(const Config& config, PluginRegistry& registry);

/// What --check prints.
void print_check(const Config& config, const std::vector<Binding>& bindings);

using Servers = std::vector<std::unique_ptr<BaseServer>>;

/// The servers of `bindings`. With `listeners` (one descriptor per binding,
/// bound by a supervisor and inherited) each adopts its socket; without, each
/// binds its own (ConfigError naming the listen address when it cannot).
Servers make_servers(const std::vector<Binding>& bindings, const std::vector<int>* listeners = nullptr);

/// Logs "server NAME listening on URL (plugin P V, model)" for each, with
/// `suffix` appended (the generation, in a worker).
void log_listening(const Servers& servers, const std::vector<Binding>& bindings, const std::string& suffix = {});

/// The signals the host's threads leave to sigwait(): SIGINT, SIGTERM,
/// SIGHUP, SIGUSR2 (and SIGCHLD for a supervisor, added by it). Blocked here
/// before any thread starts, so every thread inherits the mask. SIGPIPE is
/// ignored: a peer closing early costs an EPIPE, never the process.
sigset_t block_host_signals();

/// [host] error_log, access_log and access_log_format take effect in this
/// process (workers forked later inherit them). Throws ConfigError at the
/// path that cannot be opened.
void apply_log_settings(const HostConfig& host);
/// SIGUSR1: the log files are opened again by path (logrotate moved them);
/// logged either way.
void reopen_log_files();

/// Runs every server's loop on its own thread until SIGTERM/SIGINT, then
/// stops them gracefully (bounded by shutdown_timeout). SIGHUP and SIGUSR2
/// are logged and ignored here: a supervisor handles them. Returns the exit
/// status.
/// `on_draining` runs once every server has stopped accepting, before the
/// in-flight requests are waited for (a worker tells its supervisor).
int run_servers(const Config& config, Servers& servers, const sigset_t& signals,
                const std::function<void()>& on_draining = {});

/// "10 s", "0.5 s".
std::string format_seconds(double s);

}  // namespace sockhost::host
