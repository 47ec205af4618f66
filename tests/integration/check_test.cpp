// SPDX-License-Identifier: MIT
// `sockhost --check` and start-up errors: every mistake is FILE:LINE:COL and
// exit 1 before anything binds; the command line behaves as SPEC.md says.
#include <gtest/gtest.h>

#include <string>

#include "support/host_process.hpp"

namespace sockhost::testing {
namespace {

const std::string kTestPlugins = SOCKHOST_TEST_PLUGIN_DIR;

struct Checked {
    RunResult run;
    std::string file;
};

Checked check(const TempDir& dir, const std::string& config) {
    auto file = dir.write("servers.toml", config);
    return {run_sockhost({"--check", "--config", file.string()}), file.string()};
}

std::string server(std::string_view name, std::string_view listen, std::string_view plugin,
                   std::string_view extra = "") {
    return "[[server]]\nname = \"" + std::string(name) + "\"\nlisten = \"" + std::string(listen) +
           "\"\nplugin = \"" + std::string(plugin) + "\"\n" + std::string(extra);
}

TEST(Check, GoodConfigPrintsWhatWouldRunAndExitsZero) {
    TempDir dir;
    auto c = check(dir, host_section() + server("e", "tcp://127.0.0.1:0", "echo") +
                            server("u", "udp://127.0.0.1:0", "echo", "concurrency = \"forking\"\n"));
    EXPECT_EQ(c.run.exit_code, 0) << c.run.err;
    EXPECT_NE(c.run.out.find("config OK: " + c.file + " (2 servers)"), std::string::npos) << c.run.out;
    EXPECT_NE(c.run.out.find("e: tcp://127.0.0.1:0 -> plugin echo 1.0.0"), std::string::npos) << c.run.out;
    EXPECT_NE(c.run.out.find("u: udp://127.0.0.1:0 -> plugin echo 1.0.0"), std::string::npos);
    EXPECT_NE(c.run.out.find(", forking"), std::string::npos);
}

TEST(Check, BindsNothing) {
    TempDir dir;
    auto sock = dir / "check.sock";
    auto c = check(dir, host_section() + server("u", "unix://" + sock.string(), "echo"));
    EXPECT_EQ(c.run.exit_code, 0) << c.run.err;
    EXPECT_FALSE(std::filesystem::exists(sock));
}

/// Each bad config, the line:col and the words the error must carry.
struct BadCase {
    const char* what;
    std::string config;
    std::string where;   // "LINE:COL"
    std::string words;
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.what; }

class CheckRejects : public ::testing::TestWithParam<BadCase> {};

TEST_P(CheckRejects, WithFileLineColumnAndExitOne) {
    TempDir dir;
    auto c = check(dir, GetParam().config);
    EXPECT_EQ(c.run.exit_code, 1) << c.run.out << c.run.err;
    EXPECT_NE(c.run.err.find(c.file + ":" + GetParam().where + ": "), std::string::npos)
        << "stderr: " << c.run.err;
    EXPECT_NE(c.run.err.find(GetParam().words), std::string::npos) << "stderr: " << c.run.err;
    EXPECT_EQ(c.run.out.find("config OK"), std::string::npos);
}

// host_section() is 3 lines, so the first [[server]] is at line 4.
const std::string H = host_section();
INSTANTIATE_TEST_SUITE_P(
    Mistakes, CheckRejects,
    ::testing::Values(
        BadCase{"syntax", H + "[[server]\n", "4:10", "expected ']'"},
        BadCase{"unknown_key", H + server("e", "tcp://127.0.0.1:0", "echo") + "lsten = 1\n", "8:1",
                "unknown key 'lsten'"},
        BadCase{"bad_address", H + server("e", "http://127.0.0.1:80", "echo"), "6:10", "http"},
        BadCase{"unknown_plugin", H + server("e", "tcp://127.0.0.1:0", "nosuch"), "7:10",
                "plugin 'nosuch' not found"},
        BadCase{"abi_mismatch", H + server("e", "tcp://127.0.0.1:0", kTestPlugins + "/libbadabi.so"), "7:10",
                "SDK ABI 999.0"},
        BadCase{"no_descriptor", H + server("e", "tcp://127.0.0.1:0", kTestPlugins + "/libnodescriptor.so"),
                "7:10", "is not a sockhost plugin"},
        BadCase{"duplicate_plugin_name",
                H + server("a", "tcp://127.0.0.1:0", "echo") +
                    server("b", "tcp://127.0.0.1:0", kTestPlugins + "/libdupname.so"),
                "11:10", "already loaded from"},
        BadCase{"stream_plugin_on_datagram", H + server("s", "udp://127.0.0.1:0", kTestPlugins + "/libstreamonly.so"),
                "6:10", "serves only stream transports"},
        BadCase{"not_thread_safe",
                H + server("t", "tcp://127.0.0.1:0", kTestPlugins + "/libnothreads.so",
                           "concurrency = \"threading\"\n"),
                "8:15", "is not thread-safe"},
        BadCase{"not_fork_safe",
                H + server("f", "tcp://127.0.0.1:0", kTestPlugins + "/libnofork.so", "concurrency = \"forking\"\n"),
                "8:15", "is not fork-safe"},
        BadCase{"plugin_rejects_options",
                H + server("e", "tcp://127.0.0.1:0", "echo", "[server.options]\nshout = true\n"), "9:1",
                "option 'shout' (plugin echo): unknown option"}),
    [](const auto& info) { return std::string(info.param.what); });

TEST(Check, MissingConfigFileIsAnError) {
    auto r = run_sockhost({"--check", "--config", "/nonexistent/servers.toml"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("/nonexistent/servers.toml:0:0: "), std::string::npos) << r.err;
}

TEST(CommandLine, UnknownOptionExitsTwoWithUsage) {
    auto r = run_sockhost({"--bogus"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("bogus"), std::string::npos) << r.err;
}

TEST(CommandLine, VersionAndHelp) {
    auto v = run_sockhost({"--version"});
    EXPECT_EQ(v.exit_code, 0);
    EXPECT_EQ(v.out.rfind("sockhost 0.1.0 (SDK ABI ", 0), 0u) << v.out;
    auto h = run_sockhost({"--help"});
    EXPECT_EQ(h.exit_code, 0);
    for (const char* opt : {"--config", "--plugins-dir", "--check", "--log-level", "--version", "--help"})
        EXPECT_NE(h.out.find(opt), std::string::npos) << opt;
}

TEST(CommandLine, PluginsDirOverridesTheConfig) {
    TempDir dir;
    auto file = dir.write("servers.toml", host_section("info", "/nonexistent") +
                                              server("p", "tcp://127.0.0.1:0", "probe"));
    auto r = run_sockhost({"--check", "--config", file.string(), "--plugins-dir", kTestPlugins});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("plugin probe"), std::string::npos);
}

TEST(CommandLine, LogLevelOverridesTheConfig) {
    TempDir dir;
    HostProcess host(dir, host_section("info") + server("e", "tcp://127.0.0.1:0", "echo"),
                     {"--log-level", "error"});
    // At level error the start-up line is not printed, so url() times out.
    EXPECT_THROW(host.url("e", 1500ms), std::runtime_error);
    EXPECT_TRUE(host.running());
}

TEST(Startup, AddressInUseIsReportedAtTheListenValue) {
    TempDir dir;
    HostProcess first(dir, host_section() + server("a", "tcp://127.0.0.1:0", "echo"));
    std::string url = first.url("a");
    TempDir dir2;
    auto file = dir2.write("servers.toml", host_section() + server("b", url, "echo", "allow_reuse_address = false\n"));
    auto r = run_sockhost({"--config", file.string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find(file.string() + ":6:10: cannot listen on " + url), std::string::npos) << r.err;
}

}  // namespace
}  // namespace sockhost::testing
