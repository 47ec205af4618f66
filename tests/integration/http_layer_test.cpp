// SPDX-License-Identifier: MIT
// The SDK's HTTP layer on real sockets, through the http_hello example plugin:
// timeouts measured on the wall clock, keep-alive, pipelining, 100-continue.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/host_process.hpp"

namespace sockhost::testing {
namespace {

using Clock = std::chrono::steady_clock;

/// One host per concurrency model (threading runs a connection on a thread,
/// event parks it between reads), shared by the suite.
class HttpLayerHost : public ::testing::TestWithParam<std::string> {
protected:
    static void TearDownTestSuite() {
        hosts_.clear();
        dirs_.clear();
    }
    void SetUp() override {
        auto& host = hosts_[GetParam()];
        if (!host) {
            std::string config = host_section() +
                                 "[[server]]\nname = \"hello\"\nlisten = \"tcp://127.0.0.1:0\"\n"
                                 "plugin = \"" SOCKHOST_TEST_PLUGIN_DIR "/libhttp_hello.so\"\n"
                                 "concurrency = \"" + GetParam() + "\"\n"
                                 "  [server.options]\n  header_timeout = 1.0\n  keepalive_timeout = 1.0\n"
                                 "  body_timeout = 1.0\n";
            auto sub = std::make_unique<TempDir>();
            host = std::make_unique<HostProcess>(*sub, config);
            dirs_.push_back(std::move(sub));
        }
        host_ = host.get();
        port_ = host_->port("hello");
    }

    static inline std::map<std::string, std::unique_ptr<HostProcess>> hosts_;
    static inline std::vector<std::unique_ptr<TempDir>> dirs_;
    HostProcess* host_ = nullptr;
    std::uint16_t port_ = 0;
};

TEST_P(HttpLayerHost, CutsOffASlowHeaderClientWithinHeaderTimeout) {
    Socket s = connect_tcp(port_);
    std::string request = "GET /slow HTTP/1.1\r\nHost: localhost\r\nX-Padding: " +
                          std::string(200, 'x') + "\r\n\r\n";
    auto start = Clock::now();
    std::string answer;
    // One byte every 100 ms: the whole head would take > 20 s.
    for (char c : request) {
        try {
            s.send_all(std::string_view(&c, 1));
        } catch (const std::exception&) {
            break;   // the server already closed
        }
        answer = s.read_some(100ms);
        if (!answer.empty()) break;
    }
    if (answer.find("\r\n\r\n") == std::string::npos) answer += s.read_until("\r\n\r\n", 5s);
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    EXPECT_EQ(answer.substr(0, 12), "HTTP/1.1 408") << answer;
    EXPECT_NE(answer.find("Connection: close"), std::string::npos);
    EXPECT_GE(seconds, 0.9);
    EXPECT_LT(seconds, 3.0);
    EXPECT_TRUE(s.peer_closed(5s));
    EXPECT_TRUE(host_->running());
}

TEST_P(HttpLayerHost, ServesPipelinedRequestsOnOneConnection) {
    Socket s = connect_tcp(port_);
    s.send_all("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"
               "GET /3 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    std::string all = s.read_all(10s);
    EXPECT_NE(all.find("hello /1"), std::string::npos);
    EXPECT_NE(all.find("hello /2"), std::string::npos);
    EXPECT_NE(all.find("hello /3"), std::string::npos);
    EXPECT_NE(all.find("Connection: close"), std::string::npos);
}

TEST_P(HttpLayerHost, SendsTheFinInTheSegmentOfAClosingAnswersLastBytes) {
    // The answer to "Connection: close" is flushed with MSG_MORE and the
    // close that follows adds the FIN to its segment, as nginx's corked
    // answers do: the client receives SYN-ACK, the ACK of its request, and
    // one segment with the answer and the FIN. A FIN of its own would be a
    // fourth (what a plain send then close gives on loopback).
    for (int i = 0; i < 5; ++i) {
        Socket s = connect_tcp(port_);
        s.send_all("GET /fin HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
        std::string all = s.read_all(10s);
        ASSERT_NE(all.find("hello /fin"), std::string::npos) << all;
        const auto segs = segments_received(s);
        if (!segs) GTEST_SKIP() << "no tcpi_segs_in in TCP_INFO";
        EXPECT_LE(segs->all, 3) << "round " << i;
    }
}

TEST_P(HttpLayerHost, ClosesAnIdleKeepAliveConnection) {
    Socket s = connect_tcp(port_);
    s.send_all("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    std::string first = s.read_until("hello /", 5s);
    ASSERT_NE(first.find("200 OK"), std::string::npos);
    auto start = Clock::now();
    EXPECT_TRUE(s.peer_closed(5s));
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    EXPECT_LT(seconds, 3.0);
}

TEST_P(HttpLayerHost, SendsContinueBeforeReadingTheBody) {
    Socket s = connect_tcp(port_);
    s.send_all("POST /echo HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    std::string interim = s.read_until("\r\n\r\n", 5s);
    EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
    s.send_all("hello");
    std::string final_response = s.read_until("hello", 5s);
    EXPECT_EQ(final_response.substr(0, 15), "HTTP/1.1 200 OK");
}

TEST_P(HttpLayerHost, DecodesAChunkedBodyArrivingInPieces) {
    Socket s = connect_tcp(port_);
    s.send_all("POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
    s.send_all("lo\r\n6\r\n, worl\r\n1;ext\r\nd\r\n0\r\n\r\n");
    std::string response = s.read_until("hello, world", 5s);
    EXPECT_NE(response.find("Content-Length: 12"), std::string::npos) << response;
}

TEST_P(HttpLayerHost, LogsWhatAClientSentEscapedOnce) {
    // One escaper, applied once by the host: a quote in the target is \x22
    // in the access line (not \\x22, the SDK's escape escaped again), and a
    // terminal escape in a refused request line is \x1b.
    const std::string tag = GetParam();
    Socket s = connect_tcp(port_);
    s.send_all("GET /q\"" + tag + " HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    EXPECT_NE(s.read_all(10s).find("200 OK"), std::string::npos);
    EXPECT_TRUE(host_->wait_for_log("\"GET /q\\x22" + tag + " HTTP/1.1\" 200 ")) << host_->log();
    Socket bad = connect_tcp(port_);
    bad.send_all("GET /e\x1b[31m" + tag + " HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(bad.read_all(10s).substr(0, 13), "HTTP/1.1 400 ");
    EXPECT_TRUE(host_->wait_for_log("\"GET /e\\x1b[31m" + tag + " HTTP/1.1\" 400 ")) << host_->log();
    EXPECT_EQ(host_->log().find("\\\\x"), std::string::npos) << "escaped twice: " << host_->log();
}

INSTANTIATE_TEST_SUITE_P(Models, HttpLayerHost, ::testing::Values("threading", "event"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace sockhost::testing
