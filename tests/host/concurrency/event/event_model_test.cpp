// SPDX-License-Identifier: MIT
// The event model driven directly, without a server or the host binary: a
// fake RequestSink hands it connections over socketpairs, and the test plays
// the loop thread (process_request, service_actions, server_close).
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sockhost/sdk/stream_request_handler.hpp>
#include <sockhost/sdk/testkit.hpp>

#include <sockhost/sdk/posix/unique_fd.hpp>

#include "host/concurrency/concurrency.hpp"
#include "host/concurrency/event/connection.hpp"
#include "host/concurrency/event/ready_list.hpp"

namespace sockhost::host {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// --- The pieces alone ------------------------------------------------------------------

TEST(EventConnection, ClaimTakesAWaitingConnectionAndMarksARunningOnePending) {
    event::Connection c;
    c.state = event::State::parked;
    EXPECT_TRUE(c.claim());
    EXPECT_EQ(c.state, event::State::running);
    EXPECT_EQ(c.action, event::Action::resume);
    EXPECT_FALSE(c.claim()) << "a running connection is served again by its own thread";
    EXPECT_TRUE(c.pending);
    c.state = event::State::writing;
    EXPECT_TRUE(c.claim());
    EXPECT_EQ(c.action, event::Action::write);
    c.state = event::State::queued;
    EXPECT_FALSE(c.claim()) << "a queued connection belongs to its job";
}

TEST(EventConnection, ParkSaysReadyWhenSomethingFiredDuringTheTurnOrAReportedHangupIsUnread) {
    event::Connection c;
    const auto until = Clock::now() + 1s;
    EXPECT_FALSE(c.park(event::State::parked, until, false, false));
    EXPECT_EQ(c.state, event::State::parked);
    EXPECT_EQ(c.deadline, until);
    c.pending = true;
    EXPECT_TRUE(c.park(event::State::parked, until, false, false));
    EXPECT_FALSE(c.pending);
    EXPECT_TRUE(c.park(event::State::parked, until, true, false)) << "the last read filled its buffer";
    EXPECT_FALSE(c.park(event::State::parked, until, false, true)) << "no hangup reported";
    c.hangup = true;
    EXPECT_TRUE(c.park(event::State::parked, until, false, true)) << "read data, not the end of stream";
    EXPECT_TRUE(c.park(event::State::parked, until, false, true)) << "a hangup stays until the end is read";
    EXPECT_FALSE(c.park(event::State::parked, until, false, false)) << "no read, or the end was read";
}

TEST(EventConnection, PastItsDeadlineAParkedOneTimesOutAndAWritingOneIsAborted) {
    event::Connection c;
    const auto now = Clock::now();
    c.state = event::State::parked;
    c.deadline = now + 1s;
    EXPECT_EQ(c.expired(now), std::nullopt);
    EXPECT_EQ(c.expired(now + 2s), event::Action::time_out);
    c.state = event::State::writing;
    EXPECT_EQ(c.expired(now + 2s), event::Action::abort);
    c.state = event::State::running;
    EXPECT_EQ(c.expired(now + 2s), std::nullopt);
}

TEST(EventReadyList, HandsOutIdsOldestFirst) {
    event::ReadyList list;
    EXPECT_EQ(list.pop(), std::nullopt);
    list.push(7);
    list.push(9);
    EXPECT_EQ(list.size(), 2u);
    EXPECT_EQ(list.pop(), 7u);
    list.push(11);
    EXPECT_EQ(list.pop(), 9u);
    EXPECT_EQ(list.pop(), 11u);
    EXPECT_EQ(list.size(), 0u);
}

// --- The model over socketpairs ------------------------------------------------------

/// The answer to "big\n".
constexpr std::size_t kBig = 200 * 1024;

/// Echoes every line; parks between them; idle for `idle` then times out.
class LineEcho : public sdk::ResumableStreamHandler {
public:
    LineEcho(std::chrono::milliseconds idle, std::atomic<int>* timeouts) : idle_(idle), timeouts_(timeouts) {}
    sdk::Resume handle_ready() override {
        for (;;) {
            std::optional<std::size_t> n = rfile().fill_nowait();
            if (!n) break;
            if (*n == 0) return sdk::Resume::close;
        }
        const std::string_view in = rfile().buffered();
        if (in == "big\n") {
            // More than the socket takes (its send buffer is small), less
            // than the stream's queue limit: the rest is queued.
            wfile().write(std::string(kBig, 'x'));
        } else {
            wfile().write(in);
        }
        rfile().consume(in.size());
        wfile().flush();
        last_ = Clock::now();
        return sdk::Resume::park;
    }
    Clock::time_point idle_deadline() const override { return last_ + idle_; }
    void handle_idle_timeout() override { ++*timeouts_; }

private:
    std::chrono::milliseconds idle_;
    std::atomic<int>* timeouts_;
    Clock::time_point last_ = Clock::now();
};

/// The server as the model sees it, over socketpairs.
class FakeSink : public RequestSink {
public:
    explicit FakeSink(sdk::Protocol protocol = sdk::Protocol::raw) : protocol_(protocol) {
        never_ready_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    }
    std::function<std::unique_ptr<sdk::BaseRequestHandler>()> make;

    sdk::Transport transport() const override { return sdk::Transport::stream; }
    sdk::Protocol protocol() const override { return protocol_; }
    bool stopping() const override { return false; }
    void mark_stopping() noexcept override {}
    void log(sdk::LogLevel, std::string_view message) const override {
        std::lock_guard lock(mutex_);
        lines_.emplace_back(message);
    }
    void process_request_inline(PendingRequest& request) override { shutdown_request(request); }
    void finish_request(PendingRequest&) override {}
    std::unique_ptr<sdk::BaseRequestHandler> make_handler(PendingRequest& request) override {
        auto handler = make();
        sdk::Request r;
        r.fd = request.connection.get();
        r.stream = request.stream.get();
        handler->bind(r, context_);
        return handler;
    }
    void handle_error(const PendingRequest&, std::exception_ptr) override { ++errors; }
    void shutdown_request(PendingRequest& request) override { request.connection.reset(); }
    bool begin_shutdown(PendingRequest& request) override {
        request.connection.reset();
        return false;
    }
    void abort_request(PendingRequest& request) override {
        ++aborts;
        request.connection.reset();
    }
    void close_request(PendingRequest& request) override { request.connection.reset(); }
    int fileno() const override { return never_ready_.get(); }
    void accept_nonblocking() override {}
    bool take_ready_request(bool*) override { return false; }

    std::vector<std::string> lines() const {
        std::lock_guard lock(mutex_);
        return lines_;
    }
    std::atomic<int> errors{0};
    std::atomic<int> aborts{0};

private:
    sdk::Protocol protocol_;
    sdk::posix::UniqueFd never_ready_;   // the "listening socket": never readable
    sdk::testkit::FakeServer context_;
    mutable std::mutex mutex_;
    mutable std::vector<std::string> lines_;
};

/// A connection as accept() would give it: our end non-blocking.
struct Client {
    sdk::posix::UniqueFd fd;
    PendingRequest request;
    Client() {
        int fds[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        fd.reset(fds[0]);
        request.connection.reset(fds[1]);
        ::fcntl(fds[1], F_SETFL, ::fcntl(fds[1], F_GETFL) | O_NONBLOCK);
        const int small = 16 * 1024;
        ::setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    }
    void send(std::string_view s) const { ASSERT_EQ(::send(fd.get(), s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size())); }
    /// Reads until `n` bytes came, EOF, or `timeout`.
    std::string read(std::size_t n, std::chrono::milliseconds timeout = 5s) const {
        std::string out;
        const auto end = Clock::now() + timeout;
        while (out.size() < n && Clock::now() < end) {
            pollfd p{fd.get(), POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            char buf[65536];
            const ssize_t got = ::recv(fd.get(), buf, std::min(sizeof buf, n - out.size()), 0);
            if (got <= 0) break;
            out.append(buf, static_cast<std::size_t>(got));
        }
        return out;
    }
    /// True once the server closed (EOF), within `timeout`.
    bool closed(std::chrono::milliseconds timeout, const std::function<void()>& tick = {}) const {
        const auto end = Clock::now() + timeout;
        while (Clock::now() < end) {
            if (tick) tick();
            pollfd p{fd.get(), POLLIN, 0};
            if (::poll(&p, 1, 20) <= 0) continue;
            char buf[4096];
            const ssize_t got = ::recv(fd.get(), buf, sizeof buf, MSG_DONTWAIT);
            if (got == 0 || (got < 0 && errno == ECONNRESET)) return true;
        }
        return false;
    }
};

class EventModelTest : public ::testing::Test {
protected:
    std::unique_ptr<ConcurrencyModel> model(int threads, int max_queued = 1024) {
        ServerConfig config;
        config.threads = threads;
        config.max_queued = max_queued;
        auto m = make_event_model(config);
        m->serve_started(sink_);
        return m;
    }
    std::unique_ptr<sdk::BaseRequestHandler> echo(std::chrono::milliseconds idle = 10s) {
        return std::make_unique<LineEcho>(idle, &timeouts_);
    }
    FakeSink sink_;
    std::atomic<int> timeouts_{0};
};

TEST_F(EventModelTest, AConnectionHandedOverByTheLoopIsServedParkedAndClosedAtEndOfStream) {
    sink_.make = [this] { return echo(); };
    auto m = model(2);
    Client c;
    m->process_request(sink_, c.request);
    c.send("one\n");
    EXPECT_EQ(c.read(4), "one\n");
    c.send("two\n");   // parked in between: woken by its bytes
    EXPECT_EQ(c.read(4), "two\n");
    ::shutdown(c.fd.get(), SHUT_WR);
    EXPECT_TRUE(c.closed(5s));
    EXPECT_EQ(m->server_close(sink_, Clock::now() + 5s), 0u);
}

TEST_F(EventModelTest, AParkedConnectionPastItsIdleDeadlineIsTimedOutByTheDeadlineScan) {
    sink_.make = [this] { return echo(200ms); };
    auto m = model(1);
    Client c;
    m->process_request(sink_, c.request);
    c.send("hi\n");
    EXPECT_EQ(c.read(3), "hi\n");
    // The loop thread's service_actions finds it past its deadline.
    EXPECT_TRUE(c.closed(5s, [&] { m->service_actions(sink_); }));
    EXPECT_EQ(timeouts_.load(), 1);
    EXPECT_EQ(m->server_close(sink_, Clock::now() + 5s), 0u);
}

TEST_F(EventModelTest, ASlowReaderWaitsInEpollNotOnTheOnlyThread) {
    sink_.make = [this] { return echo(); };
    auto m = model(1);
    Client slow;
    m->process_request(sink_, slow.request);
    slow.send("big\n");   // a 200 KiB answer; this client reads none of it yet
    std::this_thread::sleep_for(100ms);
    Client other;
    m->process_request(sink_, other.request);
    other.send("quick\n");
    EXPECT_EQ(other.read(6, 5s), "quick\n") << "the one pool thread is free";
    const std::string all = slow.read(kBig, 20s);
    EXPECT_EQ(all.size(), kBig);
    EXPECT_EQ(m->server_close(sink_, Clock::now() + 5s), 0u);
}

TEST_F(EventModelTest, OverloadAnswersAnHttpPluginsClient503AndClosesARawOne) {
    for (sdk::Protocol protocol : {sdk::Protocol::http, sdk::Protocol::raw}) {
        FakeSink sink(protocol);
        sink.make = [this] { return echo(); };
        ServerConfig config;
        config.threads = 1;
        config.max_queued = 0;   // every connection the loop hands over is one too many
        auto m = make_event_model(config);
        m->serve_started(sink);
        Client c;
        m->process_request(sink, c.request);
        const std::string answer = c.read(200, 2s);
        if (protocol == sdk::Protocol::http) {
            EXPECT_EQ(answer.substr(0, 32), "HTTP/1.1 503 Service Unavailable");
            EXPECT_NE(answer.find("\r\nRetry-After: 1\r\n"), std::string::npos);
        } else {
            EXPECT_EQ(answer, "");
        }
        ::shutdown(c.fd.get(), SHUT_WR);
        EXPECT_TRUE(c.closed(5s, [&] { m->service_actions(sink); }));
        ASSERT_FALSE(sink.lines().empty());
        EXPECT_NE(sink.lines()[0].find("overloaded"), std::string::npos) << sink.lines()[0];
        EXPECT_EQ(m->server_close(sink, Clock::now() + 5s), 0u);
    }
}

TEST_F(EventModelTest, ServerCloseClosesIdleParkedConnections) {
    sink_.make = [this] { return echo(); };
    auto m = model(2);
    Client a, b;
    m->process_request(sink_, a.request);
    m->process_request(sink_, b.request);
    a.send("x\n");
    b.send("y\n");
    EXPECT_EQ(a.read(2), "x\n");
    EXPECT_EQ(b.read(2), "y\n");
    EXPECT_EQ(m->server_close(sink_, Clock::now() + 5s), 0u);
    EXPECT_TRUE(a.closed(1s));
    EXPECT_TRUE(b.closed(1s));
    EXPECT_EQ(sink_.errors.load(), 0);
}

}  // namespace
}  // namespace sockhost::host
