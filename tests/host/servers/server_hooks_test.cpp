// SPDX-License-Identifier: MIT
// socketserver's hooks, in process: handle_request / handle_timeout,
// verify_request, service_actions, and shutdown() waking serve_forever.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include <sockhost/sdk.hpp>

#include "host/concurrency/concurrency.hpp"
#include "host/servers/socket_servers.hpp"
#include "support/host_process.hpp"

namespace sockhost::host {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

/// Counts handler runs; answers "hi".
std::atomic<int> g_handled{0};
struct Hello : sdk::StreamRequestHandler {
    void handle() override {
        ++g_handled;
        wfile().write("hi");
    }
};

ServerConfig tcp_config(std::optional<double> timeout = std::nullopt) {
    ServerConfig c;
    c.name = "hooks";
    c.listen = parse_listen_address("tcp://127.0.0.1:0");
    c.concurrency = Concurrency::sync;
    c.timeout = timeout;
    return c;
}

sdk::HandlerFactory hello_factory() {
    return [](sdk::Transport) { return std::make_unique<Hello>(); };
}

/// A TCPServer whose overridable hooks record their calls.
class RecordingServer : public TCPServer {
public:
    explicit RecordingServer(ServerConfig c, bool admit = true)
        : TCPServer(std::move(c), hello_factory(), sdk::Protocol::raw, make_sync_model()), admit_(admit) {}
    std::atomic<int> timeouts{0};
    std::atomic<int> actions{0};
    std::atomic<int> verified{0};
    std::uint16_t port() const { return server_address().port(); }

protected:
    void handle_timeout() override { ++timeouts; }
    void service_actions() override {
        ++actions;
        TCPServer::service_actions();
    }
    bool verify_request(const PendingRequest& r) override {
        ++verified;
        return admit_ && TCPServer::verify_request(r);
    }

private:
    bool admit_;
};

TEST(ServerHooks, HandleRequestCallsHandleTimeoutWhenNoRequestComes) {
    RecordingServer server(tcp_config(0.2));
    server.open();
    auto start = Clock::now();
    server.handle_request();
    auto took = Clock::now() - start;
    EXPECT_EQ(server.timeouts.load(), 1);
    EXPECT_GE(took, 180ms);
    EXPECT_LT(took, 2s);
}

TEST(ServerHooks, HandleRequestServesOneRequestThenReturns) {
    RecordingServer server(tcp_config(5.0));
    server.open();
    int before = g_handled.load();
    auto client = std::async(std::launch::async, [&] {
        auto s = testing::connect_tcp(server.port());
        return s.read_all(5s);
    });
    server.handle_request();
    EXPECT_EQ(client.get(), "hi");
    EXPECT_EQ(g_handled.load(), before + 1);
    EXPECT_EQ(server.timeouts.load(), 0);
    EXPECT_GE(server.actions.load(), 1) << "service_actions runs after a request";
}

TEST(ServerHooks, VerifyRequestFalseClosesWithoutMakingAHandler) {
    RecordingServer server(tcp_config(5.0), /*admit=*/false);
    server.open();
    int before = g_handled.load();
    auto client = std::async(std::launch::async, [&] {
        auto s = testing::connect_tcp(server.port());
        return s.read_all(5s);
    });
    server.handle_request();
    EXPECT_EQ(client.get(), "");
    EXPECT_EQ(server.verified.load(), 1);
    EXPECT_EQ(g_handled.load(), before);
}

TEST(ServerHooks, ShutdownWakesServeForeverAtOnce) {
    RecordingServer server(tcp_config());
    server.open();
    std::thread loop([&] { server.serve_forever(); });
    std::this_thread::sleep_for(100ms);
    auto start = Clock::now();
    server.shutdown();
    loop.join();
    EXPECT_LT(Clock::now() - start, 100ms) << "no polling interval";
    EXPECT_EQ(server.server_close(Clock::now() + 1s), 0u);
}

TEST(ServerHooks, ServeForeverCallsHandleTimeoutAfterIdleTimeout) {
    RecordingServer server(tcp_config(0.1));
    server.open();
    std::thread loop([&] { server.serve_forever(); });
    std::this_thread::sleep_for(450ms);
    server.shutdown();
    loop.join();
    EXPECT_GE(server.timeouts.load(), 2);
    EXPECT_LE(server.timeouts.load(), 5);
}

TEST(ServerHooks, ServerAddressReportsTheEphemeralPort) {
    RecordingServer server(tcp_config());
    server.open();
    EXPECT_NE(server.port(), 0);
    EXPECT_EQ(server.server_address().to_url(true), "tcp://127.0.0.1:" + std::to_string(server.port()));
}

}  // namespace
}  // namespace sockhost::host
