// SPDX-License-Identifier: MIT
// A client that asks for a big file and never reads it, under every
// concurrency model: the send timeout cuts it (sendfile included), the cut
// is a RST so the kernel frees what was queued for it (SPEC "Aborts"), and
// the access log states the bytes actually sent.
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "support/host_process.hpp"

namespace sockhost::testing {
namespace {

constexpr std::size_t kBig = 32u << 20;   // more than the kernel buffers of both ends hold

/// http_static serving `big.bin` under `model`, with `extra` in [host] and
/// `options` in [server.options].
std::string config(const TempDir& dir, const std::string& model, const std::string& host_extra,
                   const std::string& options) {
    return host_section() + host_extra + "[[server]]\nname = \"s\"\nlisten = \"tcp://127.0.0.1:0\"\n" +
           "plugin = \"http_static\"\nconcurrency = \"" + model + "\"\n[server.options]\ndirectory = \"" +
           (dir / "root").string() + "\"\n" + options;
}

/// A client with a small receive buffer that asks for big.bin and reads nothing.
Socket stalled_client(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    int small = 4096;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) ADD_FAILURE() << "connect";
    Socket s(fd);
    s.send_all("GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n");
    return s;
}

/// Waits until the server holds no connection on `port` (none in
/// ESTABLISHED, none in FIN-WAIT-1 with data queued ...).
bool server_side_gone(std::uint16_t port, std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
        if (tcp_sockets_on_port(port).empty()) return true;
        std::this_thread::sleep_for(50ms);
    }
    return false;
}

std::string states(std::uint16_t port) {
    std::string out;
    for (const TcpSocketState& s : tcp_sockets_on_port(port))
        out += "state " + std::to_string(s.state) + " queued " + std::to_string(s.send_queue) + "; ";
    return out;
}

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

class StalledReader : public ::testing::TestWithParam<std::string> {};

TEST_P(StalledReader, IsCutAtTheSendTimeoutWithAResetAndLoggedWithTheBytesSent) {
    TempDir dir;
    dir.write("root/big.bin", std::string(kBig, 'b'));
    HostProcess host(dir, config(dir, GetParam(), "", "send_timeout = 1\n"));
    const auto port = host.port("s");
    Socket client = stalled_client(port);
    // Under the send timeout (1 s of no progress) plus margin: the server's
    // side is gone, not ESTABLISHED (the thread still waiting in sendfile)
    // and not FIN-WAIT-1 behind megabytes a graceful close left queued.
    EXPECT_TRUE(server_side_gone(port, 8s)) << GetParam() << ": " << states(port) << "\n" << host.log();
    ASSERT_TRUE(host.wait_for_log("\"GET /big.bin HTTP/1.1\" 200 ", 5s)) << host.log();
    std::smatch m;
    const std::string log = host.log();
    ASSERT_TRUE(std::regex_search(log, m, std::regex("\"GET /big\\.bin HTTP/1\\.1\" 200 (\\d+)"))) << log;
    const auto sent = std::stoull(m[1]);
    EXPECT_GT(sent, 0u) << log;
    EXPECT_LT(sent, kBig) << "the access log claims bytes never sent: " << log;
    // The host serves on.
    Socket again = connect_tcp(port);
    again.send_all("HEAD /big.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    EXPECT_NE(again.read_all(5s).find("200 OK"), std::string::npos);
    EXPECT_EQ(host.stop(), 0) << host.log();
}

TEST_P(StalledReader, AJsonAccessLineMarksTheCutAnswerAborted) {
    TempDir dir;
    dir.write("root/big.bin", std::string(kBig, 'b'));
    const auto access = dir / "access.log";
    HostProcess host(dir, config(dir, GetParam(),
                                 "access_log = \"" + access.string() + "\"\naccess_log_format = \"json\"\n",
                                 "send_timeout = 1\n"));
    const auto port = host.port("s");
    {
        Socket client = stalled_client(port);
        EXPECT_TRUE(server_side_gone(port, 8s)) << states(port);
    }
    // A whole answer too: not aborted, every byte counted.
    Socket whole = connect_tcp(port);
    whole.send_all("GET /big.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    const std::string got = whole.read_all(20s);
    EXPECT_EQ(got.size() - got.find("\r\n\r\n") - 4, kBig);
    const auto until = std::chrono::steady_clock::now() + 5s;
    std::string lines;
    while (std::chrono::steady_clock::now() < until) {
        lines = read_file(access);
        if (std::count(lines.begin(), lines.end(), '\n') >= 2) break;
        std::this_thread::sleep_for(50ms);
    }
    std::smatch m;
    ASSERT_TRUE(std::regex_search(lines, m, std::regex(R"re("status":200,"body_bytes_sent":(\d+),.*"aborted":true)re")))
        << lines;
    EXPECT_LT(std::stoull(m[1]), kBig) << lines;
    EXPECT_NE(lines.find("\"body_bytes_sent\":" + std::to_string(kBig) + ",") , std::string::npos) << lines;
    EXPECT_NE(lines.find("\"aborted\":false"), std::string::npos) << lines;
    // Access lines go to the file, not to stderr.
    EXPECT_EQ(host.log().find("GET /big.bin"), std::string::npos) << host.log();
    EXPECT_EQ(host.stop(), 0) << host.log();
}

INSTANTIATE_TEST_SUITE_P(Models, StalledReader, ::testing::Values("sync", "threading", "forking", "event"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace sockhost::testing
