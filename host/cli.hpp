// SPDX-License-Identifier: MIT
// The command line (Boost.Program_options), as SPEC.md fixes it.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace sockhost::host {

struct CommandLine {
    std::string config = "servers.toml";   // --config FILE
    std::optional<std::string> plugins_dir;  // --plugins-dir DIR (overrides [host])
    std::optional<std::string> log_level;    // --log-level L (overrides [host])
    bool check = false;                      // --check
    bool reload = false;                     // --reload: SIGHUP to the running host (its pid_file)
    bool stop = false;                       // --stop: SIGTERM to the running host
    bool version = false;                    // --version
    bool help = false;                       // --help
    std::string help_text;                   // the option descriptions, for --help
};

/// Parses argv. Throws std::invalid_argument with Program_options' message
/// ("unrecognised option '--bogus'"); the caller prints it with usage and
/// exits 2.
CommandLine parse_command_line(int argc, const char* const argv[]);

/// The option descriptions alone (what --help prints), for the usage line the
/// caller prints after a command-line error.
std::string command_line_help();

}  // namespace sockhost::host
