// SPDX-License-Identifier: MIT
// The host's life: command line -> config -> serve in this process
// (workers = 0) or supervise worker processes (the default); --check,
// --reload and --stop.
#include "host/app.hpp"

#include <signal.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <sockhost/sdk/abi.hpp>

#include "host/cli.hpp"
#include "host/config.hpp"
#include "host/log.hpp"
#include "host/pid_file.hpp"
#include "host/plugin_loader.hpp"
#include "host/serve.hpp"
#include "host/supervisor.hpp"

namespace sockhost::host {

namespace {

/// workers = 0: everything in this process (for debugging: no reload, no
/// crash survival).
int serve_in_process(const Config& config, const sigset_t& signals) {
    PluginRegistry registry(config.host.plugins_dir);
    std::vector<Binding> bindings = resolve_bindings(config, registry);
    Servers servers = make_servers(bindings);   // nothing binds before every binding validated
    log_listening(servers, bindings);
    if (!config.host.pid_file.empty()) write_pid_file(config.host.pid_file);
    const int rc = run_servers(config, servers, signals);
    if (!config.host.pid_file.empty()) remove_pid_file(config.host.pid_file);
    return rc;
}

/// --reload / --stop: signals the running host through its pid file.
int signal_host(const std::filesystem::path& file, const std::filesystem::path& pid_file, int signal) {
    if (pid_file.empty()) {
        std::cerr << "sockhost: " << file.string() << " sets no [host] pid_file, so the running host cannot be found\n";
        return 1;
    }
    const std::string error = signal_running_host(pid_file, signal);
    if (!error.empty()) {
        std::cerr << "sockhost: " << error << "\n";
        return 1;
    }
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
                     "[--version] [--help]\n"
                     "       sockhost --reload | --stop [--config FILE]\n\n"
                  << cli.help_text;
        return 0;
    }
    if (cli.version) {
        std::cout << "sockhost " << SOCKHOST_VERSION << " (SDK ABI " << sdk::kAbiMajor << "."
                  << sdk::kAbiMinor << "; " << SOCKHOST_ABI_TOOLCHAIN << ")\n";
        return 0;
    }

    const sigset_t signals = block_host_signals();
    try {
        ConfigOverrides overrides;
        if (cli.plugins_dir) overrides.plugins_dir = std::filesystem::absolute(*cli.plugins_dir);
        if (cli.log_level) {
            auto level = parse_log_level(*cli.log_level);
            if (!level) {
                std::cerr << "sockhost: --log-level must be trace, debug, info, warning or error\n";
                return 2;
            }
            overrides.log_level = *level;
        }
        // --stop must stop a host whatever the file says now; --reload first
        // says what is wrong with it (the host would refuse it anyway).
        if (cli.stop) return signal_host(cli.config, pid_file_setting(cli.config), SIGTERM);
        Config config = load_config_with(cli.config, overrides);
        if (cli.reload) return signal_host(cli.config, config.host.pid_file, SIGHUP);
        Log::set_level(config.host.log_level);

        if (cli.check) {
            PluginRegistry registry(config.host.plugins_dir);
            print_check(config, resolve_bindings(config, registry));
            return 0;
        }
        apply_log_settings(config.host);
        if (config.host.workers == 0) return serve_in_process(config, signals);

        const std::filesystem::path pid_file = config.host.pid_file;
        Supervisor supervisor(cli.config, overrides, std::move(config), signals,
                              std::vector<std::string>(argv, argv + argc));
        return supervisor.run(pid_file);
    } catch (const ConfigError& e) {
        std::cerr << e.what() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "sockhost: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace sockhost::host
