// SPDX-License-Identifier: MIT
// Issue 14 item 10: connections that send nothing take no thread and no
// child. 200 of them were enough to occupy every forking child (max_children
// 40) until header_timeout, and one was enough to stop a sync server. The
// kernel keeps a silent TCP connection out of accept() (TCP_DEFER_ACCEPT);
// one that gets through, or any Unix stream connection, waits in the serve
// loop's poll set until its first bytes (or io_timeout).
#include <signal.h>

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/host_process.hpp"

namespace sockhost::testing {
namespace {

struct Case {
    const char* model;
    bool unix_socket;
};

std::string config(const TempDir& dir, const Case& c, const std::string& server_extra = "") {
    const std::string listen =
        c.unix_socket ? "unix://" + (dir / "s.sock").string() : std::string("tcp://127.0.0.1:0");
    return host_section() + "workers = 0\n[[server]]\nname = \"s\"\nlisten = \"" + listen +
           "\"\nplugin = \"http_static\"\nconcurrency = \"" + c.model + "\"\n" + server_extra +
           "[server.options]\ndirectory = \"" + (dir / "root").string() + "\"\n";
}

std::string get(const Socket& s, const std::string& target) {
    s.send_all("GET " + target + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    return s.read_all(5s);
}

class IdleConnections : public ::testing::TestWithParam<Case> {};

TEST_P(IdleConnections, DoNotKeepARealClientWaiting) {
    TempDir dir;
    dir.write("root/a.txt", "a");
    HostProcess host(dir, config(dir, GetParam()));
    const std::string url = host.url("s");
    std::vector<Socket> idle;
    for (int i = 0; i < 200; ++i) idle.push_back(connect_stream(url));
    std::this_thread::sleep_for(300ms);   // every one accepted (or deferred by the kernel)
    const auto t0 = std::chrono::steady_clock::now();
    Socket client = connect_stream(url);
    const std::string answer = get(client, "/a.txt");
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_NE(answer.find("200 OK"), std::string::npos) << host.log();
    EXPECT_LT(took, 1s) << GetParam().model;
    // The idle ones are still served when they speak.
    EXPECT_NE(get(idle[7], "/a.txt").find("200 OK"), std::string::npos);
    EXPECT_NE(get(idle[199], "/a.txt").find("200 OK"), std::string::npos);
    idle.clear();
    EXPECT_EQ(host.stop(), 0) << host.log();
}

TEST_P(IdleConnections, AreClosedAfterIoTimeoutOfSilence) {
    TempDir dir;
    dir.write("root/a.txt", "a");
    HostProcess host(dir, config(dir, GetParam(), "io_timeout = 1\n"));
    const std::string url = host.url("s");
    Socket silent = connect_stream(url);
    Socket slow = connect_stream(url);
    std::this_thread::sleep_for(500ms);
    EXPECT_NE(get(slow, "/a.txt").find("200 OK"), std::string::npos);   // spoke in time
    EXPECT_TRUE(silent.peer_closed(4s));
    EXPECT_EQ(host.stop(), 0) << host.log();
}

// Over Unix sockets (no TCP_DEFER_ACCEPT: the server itself holds them), a
// silent connection is owed an answer while the host drains.
class IdleUnixConnections : public ::testing::TestWithParam<Case> {};

TEST_P(IdleUnixConnections, ThatSpeakWhileTheHostStopsAreAnswered) {
    TempDir dir;
    dir.write("root/a.txt", "a");
    HostProcess host(dir, config(dir, GetParam()));
    const std::string url = host.url("s");
    Socket early = connect_stream(url);
    std::this_thread::sleep_for(200ms);
    ASSERT_EQ(::kill(host.pid(), SIGTERM), 0);
    std::this_thread::sleep_for(200ms);
    EXPECT_NE(get(early, "/a.txt").find("200 OK"), std::string::npos) << host.log();
    EXPECT_EQ(host.wait_exit(10s), 0) << host.log();
}

INSTANTIATE_TEST_SUITE_P(Models, IdleUnixConnections,
                         ::testing::Values(Case{"sync", true}, Case{"threading", true}, Case{"forking", true}),
                         [](const auto& info) { return std::string(info.param.model); });

INSTANTIATE_TEST_SUITE_P(Models, IdleConnections,
                         ::testing::Values(Case{"sync", false}, Case{"threading", false}, Case{"forking", false},
                                           Case{"sync", true}, Case{"threading", true}, Case{"forking", true}),
                         [](const auto& info) {
                             return std::string(info.param.model) + (info.param.unix_socket ? "_unix" : "_tcp");
                         });

}  // namespace
}  // namespace sockhost::testing
