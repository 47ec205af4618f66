// SPDX-License-Identifier: MIT
// [host] error_log / access_log and SIGUSR1 (SPEC "Access log"): logrotate
// renames the files, SIGUSR1 makes the supervisor and every worker reopen
// them, and nothing written after the signal lands in the renamed ones.
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "support/host_process.hpp"

namespace sockhost::testing {
namespace {

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

/// Waits until `file` contains `needle`; the text, or "" on timeout.
std::string wait_in_file(const std::filesystem::path& file, const std::string& needle,
                         std::chrono::milliseconds timeout = 10s) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
        std::string text = read_file(file);
        if (text.find(needle) != std::string::npos) return text;
        std::this_thread::sleep_for(20ms);
    }
    return "";
}

std::string get(std::uint16_t port, const std::string& target) {
    Socket s = connect_tcp(port);
    s.send_all("GET " + target + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    return s.read_all(5s);
}

class LogFiles : public ::testing::TestWithParam<int> {};

TEST_P(LogFiles, GoToTheirFilesAndAreReopenedOnSigusr1) {
    TempDir dir;
    dir.write("root/a.txt", "a");
    const auto error_log = dir / "error.log";
    const auto access_log = dir / "access.log";
    HostProcess host(dir, host_section() + "workers = " + std::to_string(GetParam()) +
                              "\nerror_log = \"error.log\"\naccess_log = \"access.log\"\n"
                              "[[server]]\nname = \"s\"\nlisten = \"tcp://127.0.0.1:0\"\nplugin = \"http_static\"\n"
                              "[server.options]\ndirectory = \"" + (dir / "root").string() + "\"\n");
    // Relative to the config file; the host's own lines go to error_log.
    const std::string started = wait_in_file(error_log, "listening on tcp://127.0.0.1:");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(started, m, std::regex("listening on tcp://127\\.0\\.0\\.1:(\\d+)"))) << started;
    const auto port = static_cast<std::uint16_t>(std::stoi(m[1]));

    EXPECT_NE(get(port, "/a.txt?before").find("200 OK"), std::string::npos);
    EXPECT_NE(wait_in_file(access_log, "GET /a.txt?before"), "") << read_file(access_log);
    EXPECT_EQ(read_file(error_log).find("GET /a.txt"), std::string::npos) << "access lines in the error log";

    // logrotate: rename, then SIGUSR1.
    std::filesystem::rename(access_log, dir / "access.log.1");
    std::filesystem::rename(error_log, dir / "error.log.1");
    ASSERT_EQ(::kill(host.pid(), SIGUSR1), 0);
    // Each process says so in the new error log (the supervisor, then each worker).
    const std::string reopened = wait_in_file(error_log, "log files reopened");
    ASSERT_NE(reopened, "") << read_file(dir / "error.log.1");
    std::this_thread::sleep_for(200ms);   // the workers' reopen races our request otherwise
    EXPECT_NE(get(port, "/a.txt?after").find("200 OK"), std::string::npos);
    EXPECT_NE(wait_in_file(access_log, "GET /a.txt?after"), "") << read_file(access_log);
    EXPECT_EQ(read_file(dir / "access.log.1").find("after"), std::string::npos);
    EXPECT_NE(read_file(dir / "access.log.1").find("before"), std::string::npos);

    EXPECT_EQ(host.stop(), 0);
    EXPECT_NE(read_file(error_log).find("stopped"), std::string::npos) << read_file(error_log);
}

INSTANTIATE_TEST_SUITE_P(Workers, LogFiles, ::testing::Values(0, 2),
                         [](const auto& info) { return "workers" + std::to_string(info.param); });

TEST(LogFiles, AnUnwritableLogFileIsAConfigErrorAtItsKey) {
    TempDir dir;
    const RunResult r = run_sockhost({"--config", dir.write("servers.toml", host_section() +
                                     "access_log = \"no/such/dir/access.log\"\n[[server]]\nname = \"s\"\n"
                                     "listen = \"tcp://127.0.0.1:0\"\nplugin = \"echo\"\n").string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("servers.toml:4:14: cannot open"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace sockhost::testing
