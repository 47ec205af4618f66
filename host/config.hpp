// SPDX-License-Identifier: MIT
// servers.toml: the schema of SPEC.md, parsed with toml++, every error
// reported as FILE:LINE:COL before anything binds.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <sockhost/sdk/options.hpp>
#include <sockhost/sdk/log_text.hpp>
#include <sockhost/sdk/server_context.hpp>

#include "host/address.hpp"

namespace sockhost::host {

/// Where something was written: "servers.toml:12:3".
struct SourcePos {
    std::string file;
    int line = 0;
    int column = 0;
    std::string str() const;
};

/// A config mistake; what() is "FILE:LINE:COL: message".
class ConfigError : public std::runtime_error {
public:
    ConfigError(const SourcePos& where, const std::string& message);
    const SourcePos& where() const { return where_; }
    const std::string& message() const { return message_; }

private:
    SourcePos where_;
    std::string message_;
};

enum class Concurrency { sync, threading, forking, event };
std::string_view to_string(Concurrency c);

/// One [[server]] entry. Defaults are Python's unless noted (departures are
/// documented in the README).
struct ServerConfig {
    std::string name;
    SourcePos pos;                         // the [[server]] header
    SourcePos name_pos;                    // the `name` value
    ListenAddress listen;
    SourcePos listen_pos;
    std::string plugin;                    // name or path (contains '/')
    SourcePos plugin_pos;
    Concurrency concurrency = Concurrency::threading;
    SourcePos concurrency_pos;

    int request_queue_size = 4096;         // listen backlog; Python: 5; we: SOMAXCONN
    bool allow_reuse_address = true;
    bool allow_reuse_port = false;
    std::optional<double> timeout;         // seconds; handle_request()/handle_timeout
    int max_children = 40;                 // forking
    bool daemon_threads = false;           // threading
    bool block_on_close = true;            // threading and forking
    int max_threads = 256;                 // threading: live handler threads cap (ours)
    int threads = 0;                       // event: handler pool size; 0 = one per core (ours)
    int max_queued = 1024;                 // event: accepted connections waiting for a first turn before overload (ours)
    double io_timeout = 60.0;              // seconds per I/O wait on a stream connection (ours; 0 = none)
    std::size_t max_packet_size = 65507;   // datagram servers: the largest UDP/IPv4 payload (Python: 8192, truncating)
    std::optional<bool> ipv6_only;         // IPV6_V6ONLY; unset = system default
    std::vector<Cidr> allow;               // verify_request: empty = everyone
    std::vector<Cidr> deny;                // checked first

    sdk::Options options;                  // [server.options]
    SourcePos options_pos;                 // the [server.options] table (or the server's)
    std::map<std::string, SourcePos, std::less<>> option_pos;   // each option key
};

struct HostConfig {
    std::filesystem::path plugins_dir;     // absolute (relative ones resolved against the file's dir)
    SourcePos plugins_dir_pos;             // the value; FILE:0:0 when defaulted
    sdk::LogLevel log_level = sdk::LogLevel::info;
    double shutdown_timeout = 10.0;        // seconds of grace for in-flight requests at SIGTERM
    int workers = 1;                       // worker processes under a supervisor; 0: the host process serves (no reload)
    SourcePos workers_pos;
    std::filesystem::path pid_file;        // empty: none; --reload / --stop find the host through it
    SourcePos pid_file_pos;
    std::filesystem::path error_log;       // empty: stderr
    SourcePos error_log_pos;
    std::filesystem::path access_log;      // empty: info lines on stderr
    SourcePos access_log_pos;
    sdk::AccessLogFormat access_log_format = sdk::AccessLogFormat::clf;
};

struct Config {
    std::filesystem::path file;            // as given
    HostConfig host;
    std::vector<ServerConfig> servers;
};

/// Reads and validates a config file. Throws ConfigError. A missing or
/// unreadable file is "FILE:0:0: cannot open config file: REASON" (toml++
/// reports 0:0 too). Messages (each after "FILE:LINE:COL: "):
///   syntax errors           toml++'s description, at its position
///   "unknown key 'k' in [[server]]" / "in [host]" / "at top level ..."
///                           at the key (a "(did you mean 'x'?)" may follow)
///   "'k' must be a string|a boolean|an integer|a number|a table|an array of strings"
///   "'k' must be between MIN and MAX, got V", "'k' must be >= 0, got V", ...   at the value
///   "missing required key 'k' in [[server]]"        at the [[server]] header
///   "duplicate server name 'x' (first defined at FILE:L:C)"   at the second name
///   "address tcp://127.0.0.1:9000 already used by server 'a'" at the second listen
///                           (port 0 never clashes; Unix paths clash across unix/unixgram)
///   "ipv6_only applies only to IPv6 addresses"      at the ipv6_only value
///   "option 'k': unsupported type (...)"            at the option's value
///   "bad CIDR range '...' (...)" and the parse_listen_address messages, at the value
///   "no [[server]] defined"                          at FILE:1:1 (or at an empty `server` array)
Config load_config(const std::filesystem::path& file);

/// [host] pid_file of `file`, read leniently (the rest of the file may be
/// wrong: `sockhost --stop` must still find the host); empty when unset or
/// the file is not TOML.
std::filesystem::path pid_file_setting(const std::filesystem::path& file);

/// Same from text; `file` names it in errors, relative paths resolve against `base_dir`.
Config parse_config(std::string_view text, const std::string& file,
                    const std::filesystem::path& base_dir);

/// "trace" | "debug" | "info" | "warning" | "error"; nullopt otherwise.
std::optional<sdk::LogLevel> parse_log_level(std::string_view text);

}  // namespace sockhost::host
