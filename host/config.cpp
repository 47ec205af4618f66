// SPDX-License-Identifier: MIT
// servers.toml: toml++ does the syntax, this file the schema; every error is FILE:LINE:COL.
#include "host/config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>
#include <memory>
#include <span>
#include <sstream>
#include <thread>
#include <utility>

namespace sockhost::host {

std::string SourcePos::str() const {
    return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

ConfigError::ConfigError(const SourcePos& where, const std::string& message)
    : std::runtime_error(where.str() + ": " + message), where_(where), message_(message) {}

std::string_view to_string(Concurrency c) {
    switch (c) {
        case Concurrency::sync:
            return "sync";
        case Concurrency::threading:
            return "threading";
        case Concurrency::forking:
            return "forking";
        case Concurrency::event:
            return "event";
    }
    return "unknown";
}

std::optional<sdk::LogLevel> parse_log_level(std::string_view text) {
    if (text == "trace") return sdk::LogLevel::trace;
    if (text == "debug") return sdk::LogLevel::debug;
    if (text == "info") return sdk::LogLevel::info;
    if (text == "warning") return sdk::LogLevel::warning;
    if (text == "error") return sdk::LogLevel::error;
    return std::nullopt;
}

namespace {

namespace fs = std::filesystem;

using Entry = std::pair<const toml::key*, const toml::node*>;

constexpr std::string_view kServerKeys[] = {"name",
                                            "listen",
                                            "plugin",
                                            "concurrency",
                                            "request_queue_size",
                                            "allow_reuse_address",
                                            "allow_reuse_port",
                                            "daemon_threads",
                                            "block_on_close",
                                            "timeout",
                                            "max_children",
                                            "max_threads",
                                            "threads",
                                            "max_queued",
                                            "io_timeout",
                                            "max_packet_size",
                                            "ipv6_only",
                                            "allow",
                                            "deny",
                                            "options"};
constexpr std::string_view kHostKeys[] = {"plugins_dir", "log_level",  "shutdown_timeout",  "workers",
                                          "pid_file",    "error_log",  "access_log",        "access_log_format"};
constexpr std::string_view kTopLevelKeys[] = {"host", "server"};

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diag = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diag = up;
        }
    }
    return row[b.size()];
}

// " (did you mean 'listen'?)" for a near miss, "" otherwise.
std::string suggestion(std::string_view key, std::span<const std::string_view> known) {
    std::string_view best;
    std::size_t best_distance = 3;  // suggest only within two edits
    for (auto candidate : known) {
        auto d = edit_distance(key, candidate);
        if (d < best_distance) {
            best_distance = d;
            best = candidate;
        }
    }
    return best.empty() ? std::string{} : " (did you mean '" + std::string(best) + "'?)";
}

std::string format_number(double value) {
    std::ostringstream out;
    out << value;
    return out.str();
}

class Parser {
public:
    Parser(std::string file, fs::path base_dir) : file_(std::move(file)), base_dir_(std::move(base_dir)) {}

    Config run(const toml::table& root) {
        Config config;
        config.file = file_;
        config.host.plugins_dir = (base_dir_ / "build/plugins").lexically_normal();
        config.host.plugins_dir_pos = SourcePos{file_, 0, 0};
        bool saw_server = false;
        for (auto [key, node] : ordered(root)) {
            auto name = key->str();
            if (name == "host") {
                parse_host(*node, config.host);
            } else if (name == "server") {
                const auto* servers = node->as_array();
                if (servers == nullptr) error(*node, "'server' must be an array of tables ([[server]])");
                if (servers->empty()) error(*node, "no [[server]] defined");
                for (const auto& element : *servers) {
                    const auto* table = element.as_table();
                    if (table == nullptr) error(element, "'server' must be an array of tables ([[server]])");
                    config.servers.push_back(parse_server(*table));
                    check_unique(config.servers);
                }
                saw_server = true;
            } else {
                error(key->source(), "unknown key '" + std::string(name) +
                                         "' at top level (expected [host] or [[server]])" +
                                         suggestion(name, kTopLevelKeys));
            }
        }
        if (!saw_server) throw ConfigError(SourcePos{file_, 1, 1}, "no [[server]] defined");
        return config;
    }

private:
    SourcePos pos(const toml::source_region& region) const {
        return SourcePos{file_, static_cast<int>(region.begin.line), static_cast<int>(region.begin.column)};
    }
    [[noreturn]] void error(const toml::source_region& region, const std::string& message) const {
        throw ConfigError(pos(region), message);
    }
    [[noreturn]] void error(const toml::node& node, const std::string& message) const {
        error(node.source(), message);
    }

    // Table entries in the order they were written, so the first error reported is the first in the file.
    static std::vector<Entry> ordered(const toml::table& table) {
        std::vector<Entry> entries;
        for (auto&& [key, node] : table) entries.emplace_back(&key, &node);
        std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
            const auto& pa = a.first->source().begin;
            const auto& pb = b.first->source().begin;
            return std::pair(pa.line, pa.column) < std::pair(pb.line, pb.column);
        });
        return entries;
    }

    std::string get_string(const toml::node& node, std::string_view key) const {
        const auto* value = node.as_string();
        if (value == nullptr) error(node, "'" + std::string(key) + "' must be a string");
        return value->get();
    }

    std::string get_nonempty_string(const toml::node& node, std::string_view key) const {
        auto value = get_string(node, key);
        if (value.empty()) error(node, "'" + std::string(key) + "' must not be empty");
        return value;
    }

    bool get_bool(const toml::node& node, std::string_view key) const {
        const auto* value = node.as_boolean();
        if (value == nullptr) error(node, "'" + std::string(key) + "' must be a boolean");
        return value->get();
    }

    std::int64_t get_int(const toml::node& node, std::string_view key, std::int64_t min,
                         std::int64_t max) const {
        const auto* value = node.as_integer();
        if (value == nullptr) error(node, "'" + std::string(key) + "' must be an integer");
        auto v = value->get();
        if (v < min || v > max) {
            if (max == INT_MAX)
                error(node, "'" + std::string(key) + "' must be at least " + std::to_string(min) + ", got " +
                                std::to_string(v));
            error(node, "'" + std::string(key) + "' must be between " + std::to_string(min) + " and " +
                            std::to_string(max) + ", got " + std::to_string(v));
        }
        return v;
    }

    // Seconds: an integer or a float, finite, >= 0 (or > 0 when `positive`).
    double get_seconds(const toml::node& node, std::string_view key, bool positive) const {
        double v = 0;
        if (const auto* i = node.as_integer())
            v = static_cast<double>(i->get());
        else if (const auto* f = node.as_floating_point())
            v = f->get();
        else
            error(node, "'" + std::string(key) + "' must be a number");
        if (!std::isfinite(v)) error(node, "'" + std::string(key) + "' must be a finite number");
        if (positive && v <= 0)
            error(node, "'" + std::string(key) + "' must be > 0, got " + format_number(v));
        if (!positive && v < 0)
            error(node, "'" + std::string(key) + "' must be >= 0, got " + format_number(v));
        return v;
    }

    std::vector<Cidr> get_cidrs(const toml::node& node, std::string_view key) const {
        const auto* array = node.as_array();
        if (array == nullptr) error(node, "'" + std::string(key) + "' must be an array of strings");
        std::vector<Cidr> out;
        for (const auto& element : *array) {
            const auto* text = element.as_string();
            if (text == nullptr) error(element, "'" + std::string(key) + "' must be an array of strings");
            try {
                out.push_back(parse_cidr(text->get()));
            } catch (const std::invalid_argument& e) {
                error(element, e.what());
            }
        }
        return out;
    }

    void parse_host(const toml::node& node, HostConfig& host) const {
        const auto* table = node.as_table();
        if (table == nullptr) error(node, "'host' must be a table ([host])");
        for (auto [key, value] : ordered(*table)) {
            auto name = key->str();
            if (name == "plugins_dir") {
                fs::path dir = get_nonempty_string(*value, name);
                // Relative to the config file, not to wherever sockhost was started.
                host.plugins_dir = (base_dir_ / dir).lexically_normal();
                host.plugins_dir_pos = pos(value->source());
            } else if (name == "log_level") {
                auto text = get_string(*value, name);
                auto level = parse_log_level(text);
                if (!level)
                    error(*value, "'log_level' must be one of trace, debug, info, warning, error; got '" +
                                      text + "'");
                host.log_level = *level;
            } else if (name == "shutdown_timeout") {
                host.shutdown_timeout = get_seconds(*value, name, true);
            } else if (name == "workers") {
                // An integer, or "auto" for one worker per core.
                if (const auto* text = value->as_string()) {
                    if (text->get() != "auto")
                        error(*value, "'workers' must be an integer or \"auto\"; got '" + text->get() + "'");
                    unsigned cores = std::thread::hardware_concurrency();
                    host.workers = cores ? static_cast<int>(cores) : 1;
                } else {
                    host.workers = static_cast<int>(get_int(*value, name, 0, 256));
                }
                host.workers_pos = pos(value->source());
            } else if (name == "pid_file") {
                // Relative to the config file, as plugins_dir.
                host.pid_file = (base_dir_ / fs::path(get_nonempty_string(*value, name))).lexically_normal();
                host.pid_file_pos = pos(value->source());
            } else if (name == "error_log" || name == "access_log") {
                // Relative to the config file, as plugins_dir.
                const fs::path file = (base_dir_ / fs::path(get_nonempty_string(*value, name))).lexically_normal();
                (name == "error_log" ? host.error_log : host.access_log) = file;
                (name == "error_log" ? host.error_log_pos : host.access_log_pos) = pos(value->source());
            } else if (name == "access_log_format") {
                const std::string text = get_string(*value, name);
                if (text == "clf") host.access_log_format = sdk::AccessLogFormat::clf;
                else if (text == "combined") host.access_log_format = sdk::AccessLogFormat::combined;
                else if (text == "json") host.access_log_format = sdk::AccessLogFormat::json;
                else error(*value, "'access_log_format' must be one of clf, combined, json; got '" + text + "'");
            } else {
                error(key->source(),
                      "unknown key '" + std::string(name) + "' in [host]" + suggestion(name, kHostKeys));
            }
        }
    }

    void parse_options(const toml::node& node, ServerConfig& server) const {
        const auto* table = node.as_table();
        if (table == nullptr) error(node, "'options' must be a table ([server.options])");
        server.options_pos = pos(node.source());
        for (auto [key, value] : ordered(*table)) {
            std::string name(key->str());
            server.option_pos[name] = pos(key->source());
            auto unsupported = [&] {
                error(*value, "option '" + name +
                                  "': unsupported type (expected a boolean, integer, float, string "
                                  "or array of strings)");
            };
            switch (value->type()) {
                case toml::node_type::boolean:
                    server.options.set(name, value->as_boolean()->get());
                    break;
                case toml::node_type::integer:
                    server.options.set(name, value->as_integer()->get());
                    break;
                case toml::node_type::floating_point:
                    server.options.set(name, value->as_floating_point()->get());
                    break;
                case toml::node_type::string:
                    server.options.set(name, value->as_string()->get());
                    break;
                case toml::node_type::array: {
                    std::vector<std::string> list;
                    for (const auto& element : *value->as_array()) {
                        if (!element.is_string()) unsupported();
                        list.push_back(element.as_string()->get());
                    }
                    server.options.set(name, std::move(list));
                    break;
                }
                default:
                    unsupported();
            }
        }
    }

    ServerConfig parse_server(const toml::table& table) const {
        ServerConfig server;
        server.pos = pos(table.source());
        server.options_pos = server.pos;
        server.concurrency_pos = server.pos;
        bool has_name = false, has_listen = false, has_plugin = false;
        const toml::node* ipv6_only = nullptr;
        std::vector<std::pair<std::string_view, const toml::node*>> event_only;   // keys only "event" reads
        for (auto [key, value] : ordered(table)) {
            auto name = key->str();
            if (name == "name") {
                server.name = get_nonempty_string(*value, name);
                server.name_pos = pos(value->source());
                has_name = true;
            } else if (name == "listen") {
                auto text = get_string(*value, name);
                try {
                    server.listen = parse_listen_address(text);
                } catch (const std::invalid_argument& e) {
                    error(*value, e.what());
                }
                server.listen_pos = pos(value->source());
                has_listen = true;
            } else if (name == "plugin") {
                server.plugin = get_nonempty_string(*value, name);
                server.plugin_pos = pos(value->source());
                has_plugin = true;
            } else if (name == "concurrency") {
                auto text = get_string(*value, name);
                if (text == "sync")
                    server.concurrency = Concurrency::sync;
                else if (text == "threading")
                    server.concurrency = Concurrency::threading;
                else if (text == "forking")
                    server.concurrency = Concurrency::forking;
                else if (text == "event")
                    server.concurrency = Concurrency::event;
                else
                    error(*value, "'concurrency' must be one of sync, threading, forking, event; got '" +
                                      text + "'");
                server.concurrency_pos = pos(value->source());
            } else if (name == "request_queue_size") {
                server.request_queue_size = static_cast<int>(get_int(*value, name, 1, 65535));
            } else if (name == "allow_reuse_address") {
                server.allow_reuse_address = get_bool(*value, name);
            } else if (name == "allow_reuse_port") {
                server.allow_reuse_port = get_bool(*value, name);
            } else if (name == "daemon_threads") {
                server.daemon_threads = get_bool(*value, name);
            } else if (name == "block_on_close") {
                server.block_on_close = get_bool(*value, name);
            } else if (name == "timeout") {
                server.timeout = get_seconds(*value, name, false);
            } else if (name == "max_children") {
                server.max_children = static_cast<int>(get_int(*value, name, 1, INT_MAX));
            } else if (name == "max_threads") {
                server.max_threads = static_cast<int>(get_int(*value, name, 1, INT_MAX));
            } else if (name == "threads") {
                server.threads = static_cast<int>(get_int(*value, name, 1, 1024));
                event_only.emplace_back("threads", value);
            } else if (name == "max_queued") {
                server.max_queued = static_cast<int>(get_int(*value, name, 1, 1000000));
                event_only.emplace_back("max_queued", value);
            } else if (name == "io_timeout") {
                server.io_timeout = get_seconds(*value, name, false);
            } else if (name == "max_packet_size") {
                // 65507 = 65535 - 8 (UDP header) - 20 (IPv4 header): the largest UDP payload.
                server.max_packet_size = static_cast<std::size_t>(get_int(*value, name, 1, 65507));
            } else if (name == "ipv6_only") {
                server.ipv6_only = get_bool(*value, name);
                ipv6_only = value;
            } else if (name == "allow") {
                server.allow = get_cidrs(*value, name);
            } else if (name == "deny") {
                server.deny = get_cidrs(*value, name);
            } else if (name == "options") {
                parse_options(*value, server);
            } else {
                error(key->source(), "unknown key '" + std::string(name) + "' in [[server]]" +
                                         suggestion(name, kServerKeys));
            }
        }
        if (!has_name) throw ConfigError(server.pos, "missing required key 'name' in [[server]]");
        if (!has_listen) throw ConfigError(server.pos, "missing required key 'listen' in [[server]]");
        if (!has_plugin) throw ConfigError(server.pos, "missing required key 'plugin' in [[server]]");
        // Checked after the loop: keys may come in any order.
        if (ipv6_only != nullptr && server.listen.family() != AF_INET6)
            error(*ipv6_only, "ipv6_only applies only to IPv6 addresses");
        for (auto [key, node] : event_only)
            if (server.concurrency != Concurrency::event)
                error(*node, "'" + std::string(key) + "' applies only to concurrency = \"event\"");
        return server;
    }

    // The last server against all earlier ones: names unique, fixed addresses unique.
    static void check_unique(const std::vector<ServerConfig>& servers) {
        const auto& last = servers.back();
        for (std::size_t i = 0; i + 1 < servers.size(); ++i) {
            const auto& other = servers[i];
            if (other.name == last.name)
                throw ConfigError(last.name_pos, "duplicate server name '" + last.name +
                                                     "' (first defined at " + other.name_pos.str() + ")");
            if (last.listen.is_unix() && other.listen.is_unix()) {
                // Both kinds of Unix socket live in the file system: one path, one socket.
                if (fs::path(last.listen.path).lexically_normal() ==
                    fs::path(other.listen.path).lexically_normal()) {
                    if (last.listen.scheme == other.listen.scheme)
                        throw ConfigError(
                            last.listen_pos,
                            "address " + last.listen.str() + " already used by server '" + other.name + "'");
                    throw ConfigError(last.listen_pos, "socket path '" + last.listen.path +
                                                           "' already used by server '" + other.name + "'");
                }
            } else if (last.listen == other.listen && last.listen.port != 0) {
                // Port 0 asks the kernel for a fresh port each time, so it never clashes.
                throw ConfigError(last.listen_pos, "address " + last.listen.str() +
                                                       " already used by server '" + other.name + "'");
            }
        }
    }

    std::string file_;
    fs::path base_dir_;
};

fs::path absolute_dir(const fs::path& dir) {
    // An empty base (a bare "servers.toml") means the current directory.
    if (dir.empty()) return fs::current_path();
    return fs::absolute(dir).lexically_normal();
}

}  // namespace

Config parse_config(std::string_view text, const std::string& file, const std::filesystem::path& base_dir) {
    toml::table root;
    try {
        root = toml::parse(text, std::string(file));
    } catch (const toml::parse_error& e) {
        const auto& begin = e.source().begin;
        throw ConfigError(SourcePos{file, static_cast<int>(begin.line), static_cast<int>(begin.column)},
                          std::string(e.description()));
    }
    return Parser(file, absolute_dir(base_dir)).run(root);
}

Config load_config(const std::filesystem::path& file) {
    const std::string name = file.string();
    auto cannot_open = [&](int err) {
        return ConfigError(SourcePos{name, 0, 0},
                           "cannot open config file: " + std::string(std::strerror(err)));
    };
    // Read it ourselves: toml++ reports a missing file without the reason.
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> in(std::fopen(name.c_str(), "rb"), &std::fclose);
    if (!in) throw cannot_open(errno);
    std::string text;
    char buffer[8192];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, in.get())) > 0) text.append(buffer, n);
    // A directory opens fine and fails on read (EISDIR).
    if (std::ferror(in.get())) throw cannot_open(errno);
    return parse_config(text, name, file.parent_path());
}

}  // namespace sockhost::host

namespace sockhost::host {

std::filesystem::path pid_file_setting(const std::filesystem::path& file) {
    std::optional<std::string> value;
    try {
        const toml::table root = toml::parse_file(file.string());
        value = root["host"]["pid_file"].value<std::string>();
    } catch (const toml::parse_error&) {
        // Not TOML any more (an edit in progress): the line that sets it.
        std::ifstream in(file);
        static const std::regex setting(R"re(^\s*pid_file\s*=\s*"([^"]*)"\s*(#.*)?$)re");
        std::smatch m;
        for (std::string line; std::getline(in, line);)
            if (std::regex_match(line, m, setting)) value = m[1].str();
    }
    if (!value || value->empty()) return {};
    return (absolute_dir(file.parent_path()) / *value).lexically_normal();
}

}  // namespace sockhost::host
