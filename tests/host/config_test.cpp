// SPDX-License-Identifier: MIT
// servers.toml: schema, defaults, and FILE:LINE:COL for every kind of mistake.
#include "host/config.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <variant>
#include <vector>

#include "support/host_process.hpp"

namespace fs = std::filesystem;
namespace sdk = sockhost::sdk;
using sockhost::host::Concurrency;
using sockhost::host::Config;
using sockhost::host::ConfigError;
using sockhost::host::load_config;
using sockhost::host::parse_config;
using sockhost::host::parse_log_level;
using sockhost::host::Scheme;
using sockhost::host::SourcePos;
using sockhost::testing::TempDir;

namespace {

// Lines joined with '\n', so a test's line numbers are its list indices + 1.
std::string lines(std::initializer_list<std::string_view> list) {
    std::string out;
    for (auto line : list) {
        out += line;
        out += '\n';
    }
    return out;
}

Config parse(const std::string& text) { return parse_config(text, "servers.toml", "/etc/sockhost"); }

// what() of the ConfigError the text raises, or "" if it parses.
std::string error_of(const std::string& text) {
    try {
        parse(text);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

// A valid [[server]] body after `extra`, for tests about one key.
std::string server_with(std::initializer_list<std::string_view> extra) {
    std::string out =
        lines({"[[server]]", "name = \"s\"", "listen = \"tcp://127.0.0.1:0\"", "plugin = \"echo\""});
    for (auto line : extra) {
        out += line;
        out += '\n';
    }
    return out;
}

}  // namespace

// --- basics ---

TEST(ConfigParser, ParsesAMinimalServerWithPythonDefaults) {
    auto config = parse(lines({"[[server]]", "name = \"static\"", "listen = \"tcp://127.0.0.1:8000\"",
                               "plugin = \"http_static\""}));
    EXPECT_EQ(config.file, "servers.toml");
    ASSERT_EQ(config.servers.size(), 1u);
    const auto& s = config.servers[0];
    EXPECT_EQ(s.name, "static");
    EXPECT_EQ(s.listen.scheme, Scheme::tcp);
    EXPECT_EQ(s.listen.host, "127.0.0.1");
    EXPECT_EQ(s.listen.port, 8000);
    EXPECT_EQ(s.plugin, "http_static");
    EXPECT_EQ(s.concurrency, Concurrency::threading);
    EXPECT_EQ(s.request_queue_size, 4096);
    EXPECT_TRUE(s.allow_reuse_address);
    EXPECT_FALSE(s.allow_reuse_port);
    EXPECT_FALSE(s.timeout.has_value());
    EXPECT_EQ(s.max_children, 40);
    EXPECT_FALSE(s.daemon_threads);
    EXPECT_TRUE(s.block_on_close);
    EXPECT_EQ(s.max_threads, 256);
    EXPECT_EQ(s.io_timeout, 60.0);
    EXPECT_EQ(s.max_packet_size, 65507u);
    EXPECT_FALSE(s.ipv6_only.has_value());
    EXPECT_TRUE(s.allow.empty());
    EXPECT_TRUE(s.deny.empty());
    EXPECT_TRUE(s.options.empty());
    EXPECT_TRUE(s.option_pos.empty());
}

TEST(ConfigParser, DefaultsHostSettings) {
    auto config = parse(server_with({}));
    EXPECT_EQ(config.host.plugins_dir, fs::path("/etc/sockhost/build/plugins"));
    EXPECT_EQ(config.host.plugins_dir_pos.str(), "servers.toml:0:0");
    EXPECT_EQ(config.host.log_level, sdk::LogLevel::info);
    EXPECT_EQ(config.host.shutdown_timeout, 10.0);
}

TEST(ConfigParser, RecordsPositionsOfServerHeaderAndValues) {
    auto config = parse(lines({"# demo", "", "[[server]]", "name = \"a\"", "listen   = \"udp://[::1]:0\"",
                               "plugin = \"echo\"", "concurrency = \"sync\""}));
    const auto& s = config.servers[0];
    EXPECT_EQ(s.pos.str(), "servers.toml:3:1");
    EXPECT_EQ(s.name_pos.str(), "servers.toml:4:8");
    EXPECT_EQ(s.listen_pos.str(), "servers.toml:5:12");
    EXPECT_EQ(s.plugin_pos.str(), "servers.toml:6:10");
    EXPECT_EQ(s.concurrency_pos.str(), "servers.toml:7:15");
    EXPECT_EQ(s.options_pos.str(), "servers.toml:3:1");  // no [server.options]: the server's header
}

TEST(ConfigParser, DefaultConcurrencyPositionIsTheServerHeader) {
    auto config = parse(server_with({}));
    EXPECT_EQ(config.servers[0].concurrency_pos.str(), "servers.toml:1:1");
}

TEST(ConfigParser, ParsesEveryServerKnob) {
    auto config = parse(server_with({
        "concurrency = \"forking\"",
        "request_queue_size = 5",
        "allow_reuse_address = false",
        "allow_reuse_port = true",
        "daemon_threads = true",
        "block_on_close = false",
        "timeout = 2.5",
        "max_children = 3",
        "max_threads = 7",
        "io_timeout = 0",
        "max_packet_size = 65507",
        "allow = [\"10.0.0.0/8\", \"::1\"]",
        "deny = [\"10.1.0.0/16\"]",
    }));
    const auto& s = config.servers[0];
    EXPECT_EQ(s.concurrency, Concurrency::forking);
    EXPECT_EQ(s.request_queue_size, 5);
    EXPECT_FALSE(s.allow_reuse_address);
    EXPECT_TRUE(s.allow_reuse_port);
    EXPECT_TRUE(s.daemon_threads);
    EXPECT_FALSE(s.block_on_close);
    ASSERT_TRUE(s.timeout.has_value());
    EXPECT_EQ(*s.timeout, 2.5);
    EXPECT_EQ(s.max_children, 3);
    EXPECT_EQ(s.max_threads, 7);
    EXPECT_EQ(s.io_timeout, 0.0);
    EXPECT_EQ(s.max_packet_size, 65507u);
    ASSERT_EQ(s.allow.size(), 2u);
    EXPECT_EQ(s.allow[0].str(), "10.0.0.0/8");
    EXPECT_EQ(s.allow[1].str(), "::1/128");
    ASSERT_EQ(s.deny.size(), 1u);
    EXPECT_EQ(s.deny[0].str(), "10.1.0.0/16");
}

TEST(ConfigParser, AcceptsAnIntegerWhereSecondsAreExpected) {
    auto config =
        parse(server_with({"timeout = 3", "io_timeout = 15"}) + lines({"[host]", "shutdown_timeout = 2"}));
    EXPECT_EQ(*config.servers[0].timeout, 3.0);
    EXPECT_EQ(config.servers[0].io_timeout, 15.0);
    EXPECT_EQ(config.host.shutdown_timeout, 2.0);
}

TEST(ConfigParser, ParsesEveryConcurrencyModel) {
    EXPECT_EQ(parse(server_with({"concurrency = \"sync\""})).servers[0].concurrency, Concurrency::sync);
    EXPECT_EQ(parse(server_with({"concurrency = \"threading\""})).servers[0].concurrency,
              Concurrency::threading);
    EXPECT_EQ(parse(server_with({"concurrency = \"forking\""})).servers[0].concurrency, Concurrency::forking);
}

TEST(ConfigParser, KeepsServersInFileOrder) {
    auto config = parse(lines(
        {"[[server]]", "name = \"z\"", "listen = \"tcp://127.0.0.1:0\"", "plugin = \"echo\"", "[[server]]",
         "name = \"a\"", "listen = \"unix:///tmp/a.sock\"", "plugin = \"echo\"", "[[server]]", "name = \"m\"",
         "listen = \"unixgram:///tmp/m.dgram\"", "plugin = \"./lib/libecho.so\""}));
    ASSERT_EQ(config.servers.size(), 3u);
    EXPECT_EQ(config.servers[0].name, "z");
    EXPECT_EQ(config.servers[1].name, "a");
    EXPECT_EQ(config.servers[1].listen.scheme, Scheme::unix_stream);
    EXPECT_EQ(config.servers[2].listen.scheme, Scheme::unix_datagram);
    EXPECT_EQ(config.servers[2].plugin, "./lib/libecho.so");
}

TEST(ConfigParser, ParsesIpv6ListenLiterals) {
    auto config = parse(lines({"[[server]]", "name = \"v6\"", "listen = \"tcp://[::]:0\"",
                               "plugin = \"echo\"", "ipv6_only = true", "[[server]]", "name = \"lo6\"",
                               "listen = \"udp://[::1]:5353\"", "plugin = \"echo\"", "ipv6_only = false"}));
    EXPECT_EQ(config.servers[0].listen.host, "::");
    EXPECT_EQ(config.servers[0].listen.family(), AF_INET6);
    EXPECT_EQ(config.servers[0].ipv6_only, std::optional<bool>(true));
    EXPECT_EQ(config.servers[1].listen.str(), "udp://[::1]:5353");
    EXPECT_EQ(config.servers[1].ipv6_only, std::optional<bool>(false));
}

TEST(ConfigParser, AllowsSeveralServersOnPortZero) {
    auto config =
        parse(lines({"[[server]]", "name = \"a\"", "listen = \"tcp://127.0.0.1:0\"", "plugin = \"echo\"",
                     "[[server]]", "name = \"b\"", "listen = \"tcp://127.0.0.1:0\"", "plugin = \"echo\""}));
    EXPECT_EQ(config.servers.size(), 2u);
    EXPECT_EQ(config.servers[1].listen.port, 0);
}

TEST(ConfigParser, AllowsTcpAndUdpOnTheSamePort) {
    auto config = parse(
        lines({"[[server]]", "name = \"t\"", "listen = \"tcp://127.0.0.1:9000\"", "plugin = \"echo\"",
               "[[server]]", "name = \"u\"", "listen = \"udp://127.0.0.1:9000\"", "plugin = \"echo\""}));
    EXPECT_EQ(config.servers.size(), 2u);
}

TEST(ConfigParser, AcceptsInlineTablesForServers) {
    auto config =
        parse(lines({"server = [ { name = \"a\", listen = \"tcp://127.0.0.1:0\", plugin = \"echo\" } ]"}));
    ASSERT_EQ(config.servers.size(), 1u);
    EXPECT_EQ(config.servers[0].pos.str(), "servers.toml:1:12");
}

// --- [host] ---

TEST(ConfigParser, ResolvesRelativePluginsDirAgainstTheConfigDirectory) {
    auto config = parse(lines({"[host]", "plugins_dir = \"../lib/./plugins\""}) + server_with({}));
    EXPECT_EQ(config.host.plugins_dir, fs::path("/etc/lib/plugins"));
    EXPECT_EQ(config.host.plugins_dir_pos.str(), "servers.toml:2:15");
}

TEST(ConfigParser, KeepsAbsolutePluginsDir) {
    auto config = parse(lines({"[host]", "plugins_dir = \"/opt/sockhost/plugins\""}) + server_with({}));
    EXPECT_EQ(config.host.plugins_dir, fs::path("/opt/sockhost/plugins"));
}

TEST(ConfigParser, ResolvesAgainstARelativeBaseDirMadeAbsolute) {
    auto config = parse_config(server_with({}), "conf/servers.toml", "conf");
    EXPECT_TRUE(config.host.plugins_dir.is_absolute());
    EXPECT_EQ(config.host.plugins_dir, (fs::current_path() / "conf/build/plugins").lexically_normal());
}

TEST(ConfigParser, ParsesEveryLogLevel) {
    for (auto [text, level] :
         {std::pair{"trace", sdk::LogLevel::trace}, std::pair{"debug", sdk::LogLevel::debug},
          std::pair{"info", sdk::LogLevel::info}, std::pair{"warning", sdk::LogLevel::warning},
          std::pair{"error", sdk::LogLevel::error}}) {
        auto config = parse(lines({"[host]"}) + "log_level = \"" + text + "\"\n" + server_with({}));
        EXPECT_EQ(config.host.log_level, level) << text;
    }
}

TEST(ConfigParser, ReportsBadLogLevelAtTheValue) {
    EXPECT_EQ(error_of(lines({"[host]", "log_level = \"loud\""}) + server_with({})),
              "servers.toml:2:13: 'log_level' must be one of trace, debug, info, warning, error; got 'loud'");
}

TEST(ConfigParser, ReportsNonPositiveShutdownTimeout) {
    EXPECT_EQ(error_of(lines({"[host]", "shutdown_timeout = 0"}) + server_with({})),
              "servers.toml:2:20: 'shutdown_timeout' must be > 0, got 0");
    EXPECT_EQ(error_of(lines({"[host]", "shutdown_timeout = \"10\""}) + server_with({})),
              "servers.toml:2:20: 'shutdown_timeout' must be a number");
}

TEST(ConfigParser, ReportsUnknownKeyInHost) {
    EXPECT_EQ(error_of(lines({"[host]", "plugin_dir = \"x\""}) + server_with({})),
              "servers.toml:2:1: unknown key 'plugin_dir' in [host] (did you mean 'plugins_dir'?)");
}

TEST(ConfigParser, ReportsHostThatIsNotATable) {
    EXPECT_EQ(error_of("host = 1\n" + server_with({})), "servers.toml:1:8: 'host' must be a table ([host])");
}

TEST(ConfigParser, ReportsEmptyPluginsDir) {
    EXPECT_EQ(error_of(lines({"[host]", "plugins_dir = \"\""}) + server_with({})),
              "servers.toml:2:15: 'plugins_dir' must not be empty");
}

// --- [server.options] ---

TEST(ConfigParser, MapsOptionsToOptionValues) {
    auto config = parse(
        server_with({"  [server.options]", "  directory = \"www\"", "  listing = true", "  max_age = 3600",
                     "  ratio = 0.5", "  index = [\"index.html\", \"index.htm\"]", "  empty = []"}));
    const auto& s = config.servers[0];
    const auto& o = s.options;
    EXPECT_EQ(o.values().size(), 6u);
    EXPECT_EQ(std::get<std::string>(*o.find("directory")), "www");
    EXPECT_EQ(std::get<bool>(*o.find("listing")), true);
    EXPECT_EQ(std::get<std::int64_t>(*o.find("max_age")), 3600);
    EXPECT_EQ(std::get<double>(*o.find("ratio")), 0.5);
    EXPECT_EQ(std::get<std::vector<std::string>>(*o.find("index")),
              (std::vector<std::string>{"index.html", "index.htm"}));
    EXPECT_TRUE(std::get<std::vector<std::string>>(*o.find("empty")).empty());
    EXPECT_EQ(s.options_pos.str(), "servers.toml:5:3");
    EXPECT_EQ(s.option_pos.at("directory").str(), "servers.toml:6:3");
    EXPECT_EQ(s.option_pos.at("index").str(), "servers.toml:10:3");
}

TEST(ConfigParser, AcceptsOptionsAsAnInlineTable) {
    auto config = parse(server_with({"options = { directory = \"www\" }"}));
    const auto& s = config.servers[0];
    EXPECT_EQ(s.options.get_string("directory"), "www");
    EXPECT_EQ(s.options_pos.str(), "servers.toml:5:11");
    EXPECT_EQ(s.option_pos.at("directory").str(), "servers.toml:5:13");
}

TEST(ConfigParser, ReportsNestedTableOptionAsUnsupported) {
    EXPECT_EQ(error_of(server_with({"[server.options]", "a = 1", "[server.options.nested]", "b = 2"})),
              "servers.toml:7:1: option 'nested': unsupported type (expected a boolean, integer, float, "
              "string or array of strings)");
}

TEST(ConfigParser, ReportsArrayOfNonStringsOptionAsUnsupported) {
    EXPECT_EQ(error_of(server_with({"[server.options]", "ports = [1, 2]"})),
              "servers.toml:6:9: option 'ports': unsupported type (expected a boolean, integer, float, "
              "string or array of strings)");
}

TEST(ConfigParser, ReportsDateOptionAsUnsupported) {
    EXPECT_EQ(error_of(server_with({"[server.options]", "since = 1979-05-27"})),
              "servers.toml:6:9: option 'since': unsupported type (expected a boolean, integer, float, "
              "string or array of strings)");
}

TEST(ConfigParser, ReportsOptionsThatAreNotATable) {
    EXPECT_EQ(error_of(server_with({"options = \"x\""})),
              "servers.toml:5:11: 'options' must be a table ([server.options])");
}

// --- every error class, with its exact FILE:LINE:COL ---

TEST(ConfigParser, ReportsSyntaxErrorWithLineAndColumn) {
    EXPECT_EQ(error_of(lines({"[[server]]", "name = \"a\"", "listen = tcp://127.0.0.1:80"})),
              "servers.toml:3:11: Error while parsing boolean: expected 'true', saw 'tc'");
    EXPECT_EQ(error_of("[host\n"),
              "servers.toml:1:6: Error while parsing table header: expected ']', saw '\\n'");
}

TEST(ConfigParser, ReportsRedefinedKeyAsSyntaxError) {
    EXPECT_EQ(error_of(lines({"[[server]]", "name = \"a\"", "name = \"b\""})),
              "servers.toml:3:8: Error while parsing key-value pair: cannot redefine existing string 'name'");
}

TEST(ConfigParser, ReportsUnknownKeyWithLineAndColumn) {
    EXPECT_EQ(
        error_of(lines({"[[server]]", "name = \"a\"", "lsten = \"tcp://127.0.0.1:0\"", "plugin = \"echo\""})),
        "servers.toml:3:1: unknown key 'lsten' in [[server]] (did you mean 'listen'?)");
}

TEST(ConfigParser, ReportsUnknownKeyWithoutSuggestionWhenNothingIsClose) {
    EXPECT_EQ(error_of(server_with({"  frobnicate = 1"})),
              "servers.toml:5:3: unknown key 'frobnicate' in [[server]]");
}

TEST(ConfigParser, ReportsUnknownTopLevelKeyAndTable) {
    EXPECT_EQ(error_of("verbose = true\n" + server_with({})),
              "servers.toml:1:1: unknown key 'verbose' at top level (expected [host] or [[server]])");
    EXPECT_EQ(error_of(server_with({}) + lines({"[servers]", "x = 1"})),
              "servers.toml:5:2: unknown key 'servers' at top level (expected [host] or [[server]]) "
              "(did you mean 'server'?)");
}

TEST(ConfigParser, ReportsTheFirstUnknownKeyInFileOrder) {
    // toml++ keeps keys sorted; the error must still name the one written first.
    EXPECT_EQ(error_of(server_with({"zz = 1", "aa = 2"})),
              "servers.toml:5:1: unknown key 'zz' in [[server]]");
}

TEST(ConfigParser, ReportsWrongTypeAtTheValue) {
    EXPECT_EQ(error_of(server_with({"request_queue_size = \"5\""})),
              "servers.toml:5:22: 'request_queue_size' must be an integer");
    EXPECT_EQ(error_of(server_with({"max_children = 2.0"})),
              "servers.toml:5:16: 'max_children' must be an integer");
    EXPECT_EQ(error_of(server_with({"daemon_threads = \"yes\""})),
              "servers.toml:5:18: 'daemon_threads' must be a boolean");
    EXPECT_EQ(error_of(server_with({"timeout = true"})), "servers.toml:5:11: 'timeout' must be a number");
    EXPECT_EQ(error_of(lines({"[[server]]", "name = 5"})), "servers.toml:2:8: 'name' must be a string");
    EXPECT_EQ(error_of(lines({"[[server]]", "name = \"a\"", "listen = 80"})),
              "servers.toml:3:10: 'listen' must be a string");
    EXPECT_EQ(error_of(server_with({"allow = \"10.0.0.0/8\""})),
              "servers.toml:5:9: 'allow' must be an array of strings");
    EXPECT_EQ(error_of(server_with({"deny = [\"10.0.0.0/8\", 7]"})),
              "servers.toml:5:23: 'deny' must be an array of strings");
}

TEST(ConfigParser, ReportsOutOfRangeIntegers) {
    EXPECT_EQ(error_of(server_with({"request_queue_size = 0"})),
              "servers.toml:5:22: 'request_queue_size' must be between 1 and 65535, got 0");
    EXPECT_EQ(error_of(server_with({"request_queue_size = 65536"})),
              "servers.toml:5:22: 'request_queue_size' must be between 1 and 65535, got 65536");
    EXPECT_EQ(error_of(server_with({"max_packet_size = 65508"})),
              "servers.toml:5:19: 'max_packet_size' must be between 1 and 65507, got 65508");
    EXPECT_EQ(error_of(server_with({"max_children = 0"})),
              "servers.toml:5:16: 'max_children' must be at least 1, got 0");
    EXPECT_EQ(error_of(server_with({"max_threads = -3"})),
              "servers.toml:5:15: 'max_threads' must be at least 1, got -3");
    EXPECT_EQ(error_of(server_with({"max_threads = 9999999999"})),
              "servers.toml:5:15: 'max_threads' must be at least 1, got 9999999999");
}

TEST(ConfigParser, ReportsNegativeOrNonFiniteSeconds) {
    EXPECT_EQ(error_of(server_with({"timeout = -1"})), "servers.toml:5:11: 'timeout' must be >= 0, got -1");
    EXPECT_EQ(error_of(server_with({"io_timeout = -0.5"})),
              "servers.toml:5:14: 'io_timeout' must be >= 0, got -0.5");
    EXPECT_EQ(error_of(server_with({"timeout = inf"})),
              "servers.toml:5:11: 'timeout' must be a finite number");
    EXPECT_EQ(error_of(server_with({"io_timeout = nan"})),
              "servers.toml:5:14: 'io_timeout' must be a finite number");
}

TEST(ConfigParser, ReportsUnknownConcurrency) {
    EXPECT_EQ(error_of(server_with({"concurrency = \"async\""})),
              "servers.toml:5:15: 'concurrency' must be one of sync, threading, forking, event; got 'async'");
}

TEST(ConfigParser, ParsesTheEventModelWithItsDefaults) {
    auto config = parse(server_with({"concurrency = \"event\""}));
    const auto& s = config.servers[0];
    EXPECT_EQ(s.concurrency, Concurrency::event);
    EXPECT_EQ(s.threads, 0);   // one per core, decided by the model
    EXPECT_EQ(s.max_queued, 1024);
    EXPECT_EQ(sockhost::host::to_string(s.concurrency), "event");
}

TEST(ConfigParser, ReadsThreadsAndMaxQueuedInAnyOrder) {
    auto config = parse(server_with({"max_queued = 7", "threads = 3", "concurrency = \"event\""}));
    const auto& s = config.servers[0];
    EXPECT_EQ(s.threads, 3);
    EXPECT_EQ(s.max_queued, 7);
}

TEST(ConfigParser, ReportsThreadsAndMaxQueuedOutOfRange) {
    const std::string event = "concurrency = \"event\"";
    EXPECT_EQ(error_of(server_with({event, "threads = 0"})),
              "servers.toml:6:11: 'threads' must be between 1 and 1024, got 0");
    EXPECT_EQ(error_of(server_with({event, "threads = 5000"})),
              "servers.toml:6:11: 'threads' must be between 1 and 1024, got 5000");
    EXPECT_EQ(error_of(server_with({event, "threads = \"auto\""})),
              "servers.toml:6:11: 'threads' must be an integer");
    EXPECT_EQ(error_of(server_with({event, "max_queued = 0"})),
              "servers.toml:6:14: 'max_queued' must be between 1 and 1000000, got 0");
    EXPECT_EQ(error_of(server_with({event, "max_queued = 1.5"})),
              "servers.toml:6:14: 'max_queued' must be an integer");
}

TEST(ConfigParser, ReportsEventKeysUnderAnotherModelAtTheirValue) {
    EXPECT_EQ(error_of(server_with({"threads = 4"})),
              "servers.toml:5:11: 'threads' applies only to concurrency = \"event\"");
    EXPECT_EQ(error_of(server_with({"max_queued = 10", "concurrency = \"forking\""})),
              "servers.toml:5:14: 'max_queued' applies only to concurrency = \"event\"");
}

TEST(ConfigParser, ReportsBadAddressAtTheListenValue) {
    EXPECT_EQ(
        error_of(
            lines({"[[server]]", "name = \"a\"", "listen = \"tcp://localhost:80\"", "plugin = \"echo\""})),
        "servers.toml:3:10: host must be a numeric IP address, got 'localhost' (sockhost never resolves "
        "names)");
    EXPECT_EQ(
        error_of(lines({"[[server]]", "name = \"a\"", "listen = \"http://127.0.0.1:80\"", "plugin = \"x\""})),
        "servers.toml:3:10: unknown scheme 'http' (expected tcp, udp, unix or unixgram)");
    EXPECT_EQ(error_of(lines({"[[server]]", "name = \"a\"", "  listen = \"tcp://127.0.0.1:70000\""})),
              "servers.toml:3:12: port 70000 out of range (0..65535)");
}

TEST(ConfigParser, ReportsDuplicateAddressAtTheSecondListen) {
    EXPECT_EQ(error_of(lines({"[[server]]", "name = \"a\"", "listen = \"tcp://127.0.0.1:9000\"",
                              "plugin = \"echo\"", "", "[[server]]", "name = \"b\"", "plugin = \"echo\"",
                              "listen = \"tcp://127.0.0.1:9000\""})),
              "servers.toml:9:10: address tcp://127.0.0.1:9000 already used by server 'a'");
}

TEST(ConfigParser, ReportsDuplicateIpv6AddressWrittenDifferently) {
    EXPECT_EQ(
        error_of(lines({"[[server]]", "name = \"a\"", "listen = \"udp://[::1]:53\"", "plugin = \"echo\"",
                        "[[server]]", "name = \"b\"", "listen = \"udp://[0::1]:53\"", "plugin = \"echo\""})),
        "servers.toml:7:10: address udp://[::1]:53 already used by server 'a'");
}

TEST(ConfigParser, ReportsDuplicateUnixPath) {
    EXPECT_EQ(error_of(lines({"[[server]]", "name = \"a\"", "listen = \"unix:///tmp/s.sock\"",
                              "plugin = \"echo\"", "[[server]]", "name = \"b\"",
                              "listen = \"unix:///tmp/./s.sock\"", "plugin = \"echo\""})),
              "servers.toml:7:10: address unix:///tmp/./s.sock already used by server 'a'");
}

TEST(ConfigParser, ReportsUnixStreamAndDatagramOnOnePath) {
    EXPECT_EQ(error_of(lines({"[[server]]", "name = \"a\"", "listen = \"unix:///tmp/s\"", "plugin = \"echo\"",
                              "[[server]]", "name = \"b\"", "listen = \"unixgram:///tmp/s\"",
                              "plugin = \"echo\""})),
              "servers.toml:7:10: socket path '/tmp/s' already used by server 'a'");
}

TEST(ConfigParser, ReportsDuplicateNameWithTheFirstDefinition) {
    EXPECT_EQ(error_of(lines({"[[server]]", "name = \"a\"", "listen = \"tcp://127.0.0.1:0\"",
                              "plugin = \"echo\"", "[[server]]", "name   = \"a\"",
                              "listen = \"tcp://127.0.0.1:0\"", "plugin = \"echo\""})),
              "servers.toml:6:10: duplicate server name 'a' (first defined at servers.toml:2:8)");
}

TEST(ConfigParser, ReportsMissingRequiredKeyAtTheServerHeader) {
    EXPECT_EQ(error_of(lines({"[[server]]", "name = \"a\"", "plugin = \"echo\""})),
              "servers.toml:1:1: missing required key 'listen' in [[server]]");
    EXPECT_EQ(error_of(lines({"# x", "  [[server]]", "listen = \"tcp://127.0.0.1:0\"", "plugin = \"echo\""})),
              "servers.toml:2:3: missing required key 'name' in [[server]]");
    EXPECT_EQ(
        error_of(server_with({}) + lines({"[[server]]", "name = \"b\"", "listen = \"tcp://127.0.0.1:0\""})),
        "servers.toml:5:1: missing required key 'plugin' in [[server]]");
}

TEST(ConfigParser, ReportsEmptyNameAndPlugin) {
    EXPECT_EQ(error_of(lines({"[[server]]", "name = \"\""})), "servers.toml:2:8: 'name' must not be empty");
    EXPECT_EQ(error_of(lines({"[[server]]", "plugin = \"\""})),
              "servers.toml:2:10: 'plugin' must not be empty");
}

TEST(ConfigParser, ReportsBadCidrAtTheElement) {
    EXPECT_EQ(error_of(server_with({"allow = [\"127.0.0.1\",", "         \"10.0.0.0/33\"]"})),
              "servers.toml:6:10: bad CIDR range '10.0.0.0/33' (prefix must be 0..32)");
    EXPECT_EQ(error_of(server_with({"deny = [\"localhost\"]"})),
              "servers.toml:5:9: bad CIDR range 'localhost' (not a numeric IPv4 or IPv6 address)");
}

TEST(ConfigParser, ReportsIpv6OnlyOnAnIpv4Address) {
    EXPECT_EQ(error_of(lines({"[[server]]", "ipv6_only = true", "name = \"a\"",
                              "listen = \"tcp://0.0.0.0:0\"", "plugin = \"echo\""})),
              "servers.toml:2:13: ipv6_only applies only to IPv6 addresses");
    EXPECT_EQ(error_of(server_with({"ipv6_only = false"})),
              "servers.toml:5:13: ipv6_only applies only to IPv6 addresses");
    EXPECT_EQ(error_of(lines({"[[server]]", "name = \"a\"", "listen = \"unix:///tmp/a\"", "plugin = \"echo\"",
                              "ipv6_only = true"})),
              "servers.toml:5:13: ipv6_only applies only to IPv6 addresses");
}

TEST(ConfigParser, ReportsNoServerAtTheFileStart) {
    EXPECT_EQ(error_of(""), "servers.toml:1:1: no [[server]] defined");
    EXPECT_EQ(error_of(lines({"[host]", "log_level = \"debug\""})),
              "servers.toml:1:1: no [[server]] defined");
    EXPECT_EQ(error_of(lines({"", "server = []"})), "servers.toml:2:10: no [[server]] defined");
}

TEST(ConfigParser, ReportsServerThatIsNotAnArrayOfTables) {
    EXPECT_EQ(error_of(lines({"[server]", "name = \"a\""})),
              "servers.toml:1:1: 'server' must be an array of tables ([[server]])");
    EXPECT_EQ(error_of(lines({"server = [1]"})),
              "servers.toml:1:11: 'server' must be an array of tables ([[server]])");
}

TEST(ConfigParser, ExposesPositionAndMessageOfTheError) {
    try {
        parse(server_with({"bogus = 1"}));
        FAIL() << "expected a ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.where().file, "servers.toml");
        EXPECT_EQ(e.where().line, 5);
        EXPECT_EQ(e.where().column, 1);
        EXPECT_EQ(e.message(), "unknown key 'bogus' in [[server]]");
    }
}

TEST(ConfigParser, UsesTheGivenFileNameInErrors) {
    try {
        parse_config("x = 1\n", "/etc/sockhost/other.toml", "/etc/sockhost");
        FAIL() << "expected a ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()).rfind("/etc/sockhost/other.toml:1:1: unknown key 'x'", 0), 0u)
            << e.what();
    }
}

// --- small helpers ---

TEST(ConfigHelpers, FormatsSourcePos) { EXPECT_EQ((SourcePos{"a.toml", 12, 3}.str()), "a.toml:12:3"); }

TEST(ConfigHelpers, NamesConcurrencyModels) {
    EXPECT_EQ(sockhost::host::to_string(Concurrency::sync), "sync");
    EXPECT_EQ(sockhost::host::to_string(Concurrency::threading), "threading");
    EXPECT_EQ(sockhost::host::to_string(Concurrency::forking), "forking");
}

TEST(ConfigHelpers, ParsesLogLevelNamesOnly) {
    EXPECT_EQ(parse_log_level("warning"), sdk::LogLevel::warning);
    EXPECT_EQ(parse_log_level("trace"), sdk::LogLevel::trace);
    EXPECT_FALSE(parse_log_level("WARNING").has_value());
    EXPECT_FALSE(parse_log_level("warn").has_value());
    EXPECT_FALSE(parse_log_level("").has_value());
}

// --- load_config: real files ---

TEST(ConfigLoader, LoadsAFileAndResolvesPluginsDirBesideIt) {
    TempDir dir;
    auto file = dir.write("conf/servers.toml",
                          lines({"[host]", "plugins_dir = \"plugins\"", "[[server]]", "name = \"a\"",
                                 "listen = \"tcp://127.0.0.1:0\"", "plugin = \"echo\""}));
    auto config = load_config(file);
    EXPECT_EQ(config.file, file);
    EXPECT_EQ(config.host.plugins_dir, (fs::absolute(dir.path()) / "conf/plugins").lexically_normal());
    ASSERT_EQ(config.servers.size(), 1u);
    EXPECT_EQ(config.servers[0].listen_pos.str(), file.string() + ":5:10");
}

TEST(ConfigLoader, ReportsErrorsWithThePathAsGiven) {
    TempDir dir;
    auto file = dir.write("bad.toml", lines({"[[server]]", "name = \"a\"", "lsten = 1"}));
    try {
        load_config(file);
        FAIL() << "expected a ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()),
                  file.string() + ":3:1: unknown key 'lsten' in [[server]] (did you mean 'listen'?)");
    }
}

TEST(ConfigLoader, ReportsMissingFileAtZeroZero) {
    TempDir dir;
    auto missing = dir / "nope.toml";
    try {
        load_config(missing);
        FAIL() << "expected a ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()),
                  missing.string() + ":0:0: cannot open config file: No such file or directory");
        EXPECT_EQ(e.where().line, 0);
        EXPECT_EQ(e.where().column, 0);
    }
}

TEST(ConfigLoader, ReportsADirectoryAsUnreadable) {
    TempDir dir;
    try {
        load_config(dir.path());
        FAIL() << "expected a ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()),
                  dir.path().string() + ":0:0: cannot open config file: Is a directory");
    }
}

TEST(ConfigLoader, ReportsAnUnreadableFile) {
    if (::geteuid() == 0) GTEST_SKIP() << "root reads any file";
    TempDir dir;
    auto file = dir.write("secret.toml", server_with({}));
    ASSERT_EQ(::chmod(file.c_str(), 0), 0);
    try {
        load_config(file);
        FAIL() << "expected a ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()), file.string() + ":0:0: cannot open config file: Permission denied");
    }
}

// --- log files (SPEC "Access log") ---

TEST(ConfigParser, ResolvesLogFilesBesideTheConfigAndReadsTheAccessFormat) {
    auto config = parse(server_with({}) + lines({"[host]", "error_log = \"logs/error.log\"",
                                                 "access_log = \"/var/log/a.log\"", "access_log_format = \"json\""}));
    EXPECT_EQ(config.host.error_log, std::filesystem::path("/etc/sockhost/logs/error.log"));
    EXPECT_EQ(config.host.access_log, std::filesystem::path("/var/log/a.log"));
    EXPECT_EQ(config.host.access_log_format, sdk::AccessLogFormat::json);
    EXPECT_EQ(parse(server_with({})).host.access_log_format, sdk::AccessLogFormat::clf);
    EXPECT_TRUE(parse(server_with({})).host.access_log.empty());
}

TEST(ConfigParser, RefusesAnUnknownAccessLogFormatAtItsValue) {
    EXPECT_EQ(error_of(server_with({}) + lines({"[host]", "access_log_format = \"apache\""})),
              "servers.toml:6:21: 'access_log_format' must be one of clf, combined, json; got 'apache'");
    EXPECT_NE(error_of(server_with({}) + lines({"[host]", "access_log = \"\""})).find("servers.toml:6:"),
              std::string::npos);
}
