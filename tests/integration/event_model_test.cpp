// SPDX-License-Identifier: MIT
// concurrency = "event" against the real binary: idle keep-alive connections
// are parked and resumed, a small pool is not starved by idle or slow
// clients, the overload policy, shutdown under load, and what an idle
// connection costs in memory.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <future>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "support/host_process.hpp"
#include "support/http_client.hpp"

namespace sockhost::testing {
namespace {

using Clock = std::chrono::steady_clock;

const std::string kHello = std::string(SOCKHOST_TEST_PLUGIN_DIR) + "/libhttp_hello.so";
const std::string kSlow = std::string(SOCKHOST_TEST_PLUGIN_DIR) + "/libhttp_slow.so";
const std::string kProbe = std::string(SOCKHOST_TEST_PLUGIN_DIR) + "/libprobe.so";

/// A [[server]] named "ev" under the event model; `extra` holds more keys
/// (and a [server.options] table last, if any).
std::string event_server(const std::string& plugin, const std::string& extra = "") {
    return host_section() + "[[server]]\nname = \"ev\"\nlisten = \"tcp://127.0.0.1:0\"\nplugin = \"" + plugin +
           "\"\nconcurrency = \"event\"\n" + extra;
}

std::string get(std::string_view path, bool close = false) {
    return "GET " + std::string(path) + " HTTP/1.1\r\nHost: t\r\n" + (close ? "Connection: close\r\n" : "") +
           "\r\n";
}

/// Reads one complete response with body `body` (http_hello and http_slow
/// send short text bodies with a Content-Length).
std::string read_response(const Socket& s, std::string_view body, std::chrono::milliseconds timeout = 10s) {
    return s.read_until(body, timeout);
}

/// Ten one-request clients of `path`, each answered with `expected` within
/// 500 ms: the model still serves others while `when` holds.
void expect_served_promptly(std::uint16_t port, const std::string& path, const std::string& expected,
                            const char* when) {
    for (int i = 0; i < 10; ++i) {
        auto start = Clock::now();
        Socket s = connect_tcp(port);
        s.send_all(get(path, true));
        EXPECT_NE(s.read_all(2s).find(expected), std::string::npos) << when << ", client " << i;
        EXPECT_LT(Clock::now() - start, 500ms) << when << ", client " << i;
    }
}

/// VmRSS of `pid` in KiB (0 when unreadable).
long rss_kib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return 0;
}

/// Raises this process's descriptor limit (the host inherits it) to at
/// least `want`, within the hard limit; returns the soft limit now in force.
rlim_t raise_open_files(rlim_t want) {
    rlimit rl{};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < want) {
        rl.rlim_cur = std::min(want, rl.rlim_max);
        ::setrlimit(RLIMIT_NOFILE, &rl);
        ::getrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur;
}

TEST(EventModel, ParkedConnectionIsResumedForEachOf50SpacedRequests) {
    TempDir dir;
    HostProcess host(dir, event_server(kHello, "threads = 2\n"));
    Socket s = connect_tcp(host.port("ev"));
    for (int i = 0; i < 50; ++i) {
        const std::string path = "/r" + std::to_string(i);
        s.send_all(get(path));
        std::string response = read_response(s, "hello " + path);
        ASSERT_EQ(response.substr(0, 15), "HTTP/1.1 200 OK") << "request " << i << ": " << response;
        ASSERT_NE(response.find("hello " + path), std::string::npos) << "request " << i;
        std::this_thread::sleep_for(20ms);   // the connection idles, parked, between requests
    }
    EXPECT_EQ(host.stop(), 0) << host.log();
}

TEST(EventModel, TwoHundredIdleConnectionsDoNotOccupyTwoThreads) {
    TempDir dir;
    HostProcess host(dir, event_server(kHello, "threads = 2\n"));
    const auto port = host.port("ev");
    std::vector<Socket> idle;
    for (int i = 0; i < 200; ++i) {
        Socket s = connect_tcp(port);
        s.send_all(get("/first"));
        ASSERT_NE(read_response(s, "hello /first").find("200 OK"), std::string::npos) << "connection " << i;
        idle.push_back(std::move(s));
    }
    // Every one of them now idles in keep-alive; a newcomer is served at once.
    auto start = Clock::now();
    Socket fresh = connect_tcp(port);
    fresh.send_all(get("/fresh"));
    EXPECT_NE(read_response(fresh, "hello /fresh", 2s).find("hello /fresh"), std::string::npos);
    EXPECT_LT(Clock::now() - start, 1s);
    // And each idle one is resumed when it speaks again.
    for (std::size_t i = 0; i < idle.size(); ++i) {
        const std::string path = "/again" + std::to_string(i);
        idle[i].send_all(get(path));
        ASSERT_NE(read_response(idle[i], "hello " + path).find("hello " + path), std::string::npos)
            << "connection " << i;
    }
    EXPECT_EQ(host.stop(), 0) << host.log();
}

TEST(EventModel, PipelinedRequestsArrivingInPiecesAreAllAnswered) {
    TempDir dir;
    HostProcess host(dir, event_server(kHello, "threads = 1\n"));
    Socket s = connect_tcp(host.port("ev"));
    // Two whole requests and half of a third: the answers must not wait for the rest.
    const std::string third = get("/3", true);
    s.send_all(get("/1") + get("/2") + third.substr(0, 10));
    std::string got = read_response(s, "hello /2", 5s);
    EXPECT_NE(got.find("hello /1"), std::string::npos) << got;
    EXPECT_NE(got.find("hello /2"), std::string::npos) << got;
    s.send_all(third.substr(10));
    got = s.read_all(5s);
    EXPECT_NE(got.find("hello /3"), std::string::npos) << got;
    EXPECT_NE(got.find("Connection: close"), std::string::npos) << got;
}

TEST(EventModel, APipelinedBatchLargerThanOneReadIsAnsweredWhole) {
    // ~56 KiB of requests in the socket at once: more than one 16 KiB read.
    // A connection parked edge-triggered with bytes still unread would never
    // be woken for them.
    TempDir dir;
    HostProcess host(dir, event_server(kHello, "threads = 1\n"));
    Socket s = connect_tcp(host.port("ev"));
    // Requests of exactly 64 bytes, so a 16 KiB read ends on a request
    // boundary: the handler answers all it read, finds nothing buffered and
    // parks while 30 KiB more wait in the socket.
    constexpr int kRequests = 900;   // under max_keepalive_requests (1000)
    auto path = [](int i) {
        std::string n = std::to_string(i);
        return "/pipelined-" + std::string(27 - n.size(), '0') + n;   // 38 bytes
    };
    std::string batch;
    for (int i = 0; i < kRequests; ++i) {
        batch += get(path(i), i == kRequests - 1);
        if (i < kRequests - 1) {
            ASSERT_EQ(batch.size() % 64, 0u);
        }
    }
    ASSERT_GT(batch.size(), 40u * 1024);
    auto reader = std::async(std::launch::async, [&] { return s.read_all(20s); });
    s.send_all(batch);
    const std::string got = reader.get();
    std::size_t answers = 0;
    for (std::size_t at = got.find("HTTP/1.1 200"); at != std::string::npos; at = got.find("HTTP/1.1 200", at + 1))
        ++answers;
    EXPECT_EQ(answers, static_cast<std::size_t>(kRequests)) << got.size() << " bytes received";
    EXPECT_NE(got.find("hello " + path(kRequests - 1)), std::string::npos);
}

TEST(EventModel, OverloadAnswersHttp503WithRetryAfterAndCloses) {
    TempDir dir;
    HostProcess host(dir, event_server(kSlow, "threads = 1\nmax_queued = 1\n"));
    const auto port = host.port("ev");
    Socket busy = connect_tcp(port);
    busy.send_all(get("/sleep?1500"));
    ASSERT_TRUE(host.wait_for_log("http_slow: sleeping 1500 ms")) << host.log();
    // The only thread is busy: one connection may wait, the next is refused.
    Socket waiting = connect_tcp(port);
    waiting.send_all(get("/waiting"));
    Socket refused = connect_tcp(port);
    refused.send_all(get("/refused"));
    std::string answer = refused.read_all(5s);
    EXPECT_EQ(answer.substr(0, 32), "HTTP/1.1 503 Service Unavailable") << answer;
    EXPECT_NE(answer.find("\r\nRetry-After: 1\r\n"), std::string::npos) << answer;
    EXPECT_NE(answer.find("\r\nConnection: close\r\n"), std::string::npos) << answer;
    EXPECT_TRUE(host.wait_for_log("overloaded")) << host.log();
    // The busy request and the one that waited are served in full.
    EXPECT_NE(read_response(busy, "slept 1500").find("slept 1500"), std::string::npos);
    EXPECT_NE(read_response(waiting, "hello /waiting").find("hello /waiting"), std::string::npos);
    EXPECT_EQ(host.stop(), 0) << host.log();
}

TEST(EventModel, OverloadClosesARawStreamConnection) {
    TempDir dir;
    HostProcess host(dir, event_server(kProbe, "threads = 1\nmax_queued = 1\n"));
    const std::string url = host.url("ev");
    // A plain StreamRequestHandler holds its thread until its client leaves.
    Socket busy = connect_stream(url);
    busy.send_all("a\n");
    ASSERT_EQ(busy.read_until("\n"), "a\n");
    Socket waiting = connect_stream(url);
    waiting.send_all("b\n");
    Socket refused = connect_stream(url);
    refused.send_all("c\n");   // (TCP_DEFER_ACCEPT: a silent one stays in the kernel's queue)
    EXPECT_TRUE(refused.peer_closed(5s));
    EXPECT_TRUE(host.wait_for_log("overloaded")) << host.log();
    busy.shutdown_write();
    EXPECT_EQ(busy.read_all(5s), "");
    EXPECT_EQ(waiting.read_until("\n", 5s), "b\n");
    waiting.shutdown_write();
    EXPECT_EQ(waiting.read_all(5s), "");
    EXPECT_EQ(host.stop(), 0) << host.log();
}

TEST(EventModel, SlowlorisClientNeitherBlocksOthersNorOutlivesHeaderTimeout) {
    TempDir dir;
    HostProcess host(dir, event_server(kHello, "threads = 1\n  [server.options]\n  header_timeout = 1.0\n"));
    const auto port = host.port("ev");
    auto slowloris = std::async(std::launch::async, [port] {
        Socket s = connect_tcp(port);
        const std::string head = "GET /slow HTTP/1.1\r\nHost: t\r\nX-Padding: " + std::string(100, 'x') + "\r\n\r\n";
        auto start = Clock::now();
        std::string answer;
        for (char c : head) {   // one byte every 100 ms: the head would take > 10 s
            try {
                s.send_all(std::string_view(&c, 1));
            } catch (const std::exception&) {
                break;   // already closed by the server
            }
            answer = s.read_some(100ms);
            if (!answer.empty()) break;
        }
        answer += s.read_all(3s);
        return std::pair(answer, std::chrono::duration<double>(Clock::now() - start).count());
    });
    // Meanwhile the one handler thread serves everybody else promptly.
    std::this_thread::sleep_for(200ms);
    expect_served_promptly(port, "/quick", "hello /quick", "while a slowloris head trickles");
    auto [answer, seconds] = slowloris.get();
    EXPECT_EQ(answer.substr(0, 12), "HTTP/1.1 408") << answer;
    EXPECT_GE(seconds, 0.9);
    EXPECT_LT(seconds, 3.0);
    EXPECT_EQ(host.stop(), 0) << host.log();
}

TEST(EventModel, AClientStillSendingAfterItsAnswerDoesNotHoldTheThread) {
    // A body nobody reads (64 MiB declared: 413 before any of it is read, and
    // far past what the HTTP layer drains): after the answer the connection
    // is half-closed and its input dropped until the client stops (lingering
    // close, so no RST destroys the answer). That waiting is the loop thread's, not the one
    // handler thread's.
    TempDir dir;
    HostProcess host(dir, event_server(kHello, "threads = 1\n"));
    const auto port = host.port("ev");
    Socket rude = connect_tcp(port);
    rude.send_all("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 67108864\r\n\r\n" +
                  std::string(32 * 1024, 'b'));
    // Past max_body_size: answered at once, body unread.
    const std::string answer = rude.read_until("</html>", 2s);
    EXPECT_EQ(answer.substr(0, 12), "HTTP/1.1 413") << answer;
    EXPECT_NE(answer.find("</html>"), std::string::npos) << answer;
    std::atomic<bool> stop{false};
    std::thread trickle([&] {   // on sending for ~1.5 s (the lingering limit is 2 s)
        const std::string chunk(1024, 'b');
        for (int i = 0; i < 30 && !stop; ++i) {
            try {
                rude.send_all(chunk);
            } catch (const std::exception&) {
                break;
            }
            std::this_thread::sleep_for(50ms);
        }
    });
    std::this_thread::sleep_for(100ms);
    expect_served_promptly(port, "/quick", "hello /quick", "while an unread upload trickles");
    stop = true;
    trickle.join();
    EXPECT_EQ(host.stop(), 0) << host.log();
}

TEST(EventModel, ABodySentSlowlyWaitsParkedNotOnTheThread) {
    // A short body (Content-Length, at most 64 KiB) is read in full before
    // the handler runs: while it trickles in, the one thread serves others.
    TempDir dir;
    HostProcess host(dir, event_server(kHello, "threads = 1\n"));
    const auto port = host.port("ev");
    const std::string body = "first half|second half, sent a second later";
    Socket slow = connect_tcp(port);
    slow.send_all("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) +
                  "\r\n\r\n" + body.substr(0, 11));
    std::this_thread::sleep_for(100ms);
    expect_served_promptly(port, "/quick", "hello /quick", "while a request body trickles");
    // Then the rest, in two pieces, and a pipelined GET behind it.
    slow.send_all(body.substr(11, 10));
    std::this_thread::sleep_for(200ms);
    slow.send_all(body.substr(21) + get("/after"));
    const std::string answers = slow.read_until("hello /after", 3s);
    EXPECT_EQ(answers.substr(0, 15), "HTTP/1.1 200 OK") << answers;
    EXPECT_NE(answers.find("\r\n\r\n" + body + "HTTP/1.1 200 OK"), std::string::npos) << answers;
    EXPECT_NE(answers.find("hello /after"), std::string::npos) << answers;
    EXPECT_EQ(host.stop(), 0) << host.log();
}

TEST(EventModel, ABodyThatStopsArrivingIsAnswered408AfterBodyTimeout) {
    TempDir dir;
    HostProcess host(dir, event_server(kHello, "threads = 1\n  [server.options]\n  body_timeout = 1.0\n"));
    const auto port = host.port("ev");
    const std::vector<std::pair<std::string, std::string>> uploads = {
        {"/length", "Content-Length: 100\r\n\r\npartial"},
        {"/chunked", "Transfer-Encoding: chunked\r\n\r\n7\r\npartial\r\n"}};
    for (const auto& [target, rest] : uploads) {
        Socket stalled = connect_tcp(port);
        const auto start = Clock::now();
        stalled.send_all("POST " + target + " HTTP/1.1\r\nHost: t\r\n" + rest);
        std::this_thread::sleep_for(200ms);
        expect_served_promptly(port, "/quick", "hello /quick", "while a request body has stalled");
        const std::string answer = stalled.read_all(4s);
        const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
        EXPECT_EQ(answer.substr(0, 12), "HTTP/1.1 408") << target << ": " << answer;
        EXPECT_NE(answer.find("Request body timed out"), std::string::npos) << target << ": " << answer;
        EXPECT_GE(seconds, 0.9) << target;
        EXPECT_LT(seconds, 3.0) << target;
        // The access line follows the answer: waited for, not looked for at once.
        EXPECT_TRUE(host.wait_for_log("\"POST " + target + " HTTP/1.1\" 408", 5s)) << host.log();
    }
    EXPECT_EQ(host.stop(), 0) << host.log();
}

TEST(EventModel, AChunkedBodySentSlowlyWaitsParkedNotOnTheThread) {
    TempDir dir;
    HostProcess host(dir, event_server(kHello, "threads = 1\n"));
    const auto port = host.port("ev");
    Socket slow = connect_tcp(port);
    slow.send_all("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
    std::this_thread::sleep_for(100ms);
    expect_served_promptly(port, "/quick", "hello /quick", "while a chunked body trickles");
    slow.send_all("6\r\n wor");   // a chunk split across sends
    std::this_thread::sleep_for(100ms);
    slow.send_all("ld\r\n0\r\n\r\n");
    const std::string answer = slow.read_until("hello world", 3s);
    EXPECT_EQ(answer.substr(0, 15), "HTTP/1.1 200 OK") << answer;
    EXPECT_NE(answer.find("Content-Length: 11\r\n"), std::string::npos) << answer;
    EXPECT_EQ(host.stop(), 0) << host.log();
}

TEST(EventModel, BodiesTooBigToBufferAndChunkedBodiesAreStillRead) {
    // Past 64 KiB: the handler reads the body as it asks for it; a short
    // chunked one arriving in two pieces comes back whole too.
    TempDir dir;
    HostProcess host(dir, event_server(kHello, "threads = 1\n"));
    const auto port = host.port("ev");
    const std::string big(200 * 1024, 'z');
    Socket s = connect_tcp(port);
    s.send_all("POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(big.size()) +
               "\r\n\r\n" + big);
    std::string answer = s.read_until(big, 5s);
    EXPECT_NE(answer.find("Content-Length: " + std::to_string(big.size())), std::string::npos)
        << answer.substr(0, 300);
    EXPECT_EQ(answer.size() - answer.find("\r\n\r\n") - 4, big.size());
    s.send_all("POST /chunked HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
    std::this_thread::sleep_for(100ms);
    s.send_all("6\r\n world\r\n0\r\n\r\n");
    answer = s.read_until("hello world", 3s);
    EXPECT_NE(answer.find("Content-Length: 11\r\n"), std::string::npos) << answer;
    // Chunked past 64 KiB of data, and 40,000 one-byte chunks (framing past
    // 128 KiB): not waited for whole, read by the handler.
    auto chunked_echo = [&](const std::string& target, const std::string& encoded, const std::string& body) {
        Socket c = connect_tcp(port);
        c.send_all("POST " + target + " HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + encoded);
        const std::string got = c.read_until(body, 5s);
        EXPECT_NE(got.find("Content-Length: " + std::to_string(body.size()) + "\r\n"), std::string::npos)
            << target << ": " << got.substr(0, 300);
        EXPECT_EQ(got.size() - got.find("\r\n\r\n") - 4, body.size()) << target;
    };
    const std::string hundred_k(100 * 1024, 'c');
    chunked_echo("/chunked-big", "19000\r\n" + hundred_k + "\r\n0\r\n\r\n", hundred_k);
    std::string tiny_chunks;
    for (int i = 0; i < 40000; ++i) tiny_chunks += "1\r\nt\r\n";
    chunked_echo("/chunked-tiny", tiny_chunks + "0\r\n\r\n", std::string(40000, 't'));
    EXPECT_EQ(host.stop(), 0) << host.log();
}

/// A docroot with `big.bin` (32 MiB: more than the kernel buffers of both
/// ends hold, so a client that does not read makes the server wait) and
/// `small.txt`, served by http_static under the event model with one thread.
struct BigFileHost {
    explicit BigFileHost(const std::string& options = "")
        : big(pattern(32u << 20)),
          host(dir, (dir.write("root/big.bin", big), dir.write("root/small.txt", "small\n"),
                     event_server("http_static", "threads = 1\n  [server.options]\n  directory = \"" +
                                                     (dir / "root").string() + "\"\n" + options))),
          port(host.port("ev")) {}
    static std::string pattern(std::size_t n) {
        std::string s(n, '\0');
        for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 4099) % 26);
        return s;
    }
    void expect_others_served_promptly(const char* when) const {
        expect_served_promptly(port, "/small.txt", "small\n", when);
    }
    TempDir dir;
    const std::string big;
    HostProcess host;
    const std::uint16_t port;
};

/// One 200 response on `c` whose body is `want` (compared without printing
/// megabytes when it is not).
void expect_body(Client& c, const std::string& want, const char* which) {
    Response r = c.next();
    EXPECT_EQ(r.status, 200) << which;
    EXPECT_EQ(r.body.size(), want.size()) << which;
    EXPECT_TRUE(r.body == want) << which << ": the body arrived altered";
}

TEST(EventModel, AClientNotReadingABigFileDoesNotHoldTheThread) {
    // Write completion: the answer's unsent rest waits in the epoll set for
    // the socket to drain, not on the one handler thread.
    BigFileHost h;
    Client slow(h.port);
    slow.send(get("/big.bin", true));
    std::this_thread::sleep_for(200ms);   // its buffers fill; it reads nothing yet
    h.expect_others_served_promptly("while a reader stalls");
    expect_body(slow, h.big, "the big file");
    EXPECT_TRUE(slow.peer_closed());   // Connection: close, after the whole body
    EXPECT_EQ(h.host.stop(), 0) << h.host.log();
}

TEST(EventModel, PipelinedRequestsBehindASlowReaderAreAnsweredWholeAndInOrder) {
    BigFileHost h;
    Client slow(h.port);
    slow.send(get("/big.bin") + get("/small.txt") + get("/big.bin"));
    std::this_thread::sleep_for(300ms);
    h.expect_others_served_promptly("while a pipelining reader stalls");
    expect_body(slow, h.big, "first answer");
    expect_body(slow, "small\n", "second answer");
    expect_body(slow, h.big, "third answer");
    // Still usable afterwards: parked, resumed for one more request.
    slow.send(get("/small.txt"));
    expect_body(slow, "small\n", "fourth answer");
    EXPECT_EQ(h.host.stop(), 0) << h.host.log();
}

TEST(EventModel, AReaderSlowerThanTheSendTimeoutIsClosedWithoutBlockingOthers) {
    BigFileHost h("  send_timeout = 0.5\n");
    Socket stuck = connect_tcp(h.port);
    stuck.send_all(get("/big.bin"));
    std::this_thread::sleep_for(100ms);
    h.expect_others_served_promptly("while a reader never reads");
    std::this_thread::sleep_for(1500ms);   // past the send timeout: closed by now
    const std::string got = stuck.read_all(5s);   // what was in flight, then the end
    EXPECT_GT(got.size(), 0u);
    EXPECT_LT(got.size(), h.big.size());
    h.expect_others_served_promptly("after the stuck reader was closed");
    EXPECT_EQ(h.host.stop(), 0) << h.host.log();
}

TEST(EventModel, SigtermUnderLoadFinishesInFlightAndQueuedRequestsAndExitsZero) {
    TempDir dir;
    HostProcess host(dir, event_server(kSlow, "threads = 2\n"));
    const auto port = host.port("ev");
    std::vector<Socket> clients;
    for (int i = 0; i < 6; ++i) {
        clients.push_back(connect_tcp(port));
        clients.back().send_all(get("/sleep?400"));
    }
    ASSERT_TRUE(host.wait_for_log("http_slow: sleeping 400 ms")) << host.log();
    std::this_thread::sleep_for(100ms);   // the other four are accepted and queued
    auto stopped = std::async(std::launch::async, [&] { return host.stop(SIGTERM, 20s); });
    for (std::size_t i = 0; i < clients.size(); ++i) {
        // The whole answer, then the close (no further request is taken).
        std::string response = clients[i].read_all(10s);
        EXPECT_NE(response.find("slept 400"), std::string::npos) << "client " << i << ": " << response;
        EXPECT_TRUE(clients[i].peer_closed(1s)) << "client " << i;
    }
    auto code = stopped.get();
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 0) << host.log();
}

TEST(EventModel, DatagramsAreAnsweredByThePool) {
    TempDir dir;
    HostProcess host(dir, host_section() + "[[server]]\nname = \"ev\"\nlisten = \"udp://127.0.0.1:0\"\n"
                                           "plugin = \"" + kProbe + "\"\nconcurrency = \"event\"\nthreads = 2\n");
    Socket s = datagram_client(host.url("ev"), dir.path());
    for (int i = 0; i < 20; ++i) {
        const std::string msg = "d" + std::to_string(i);
        EXPECT_EQ(datagram_roundtrip(s, msg), msg);
    }
    EXPECT_EQ(host.stop(), 0) << host.log();
}

TEST(EventModel, EchoConnectionsShareOneThreadBecauseEchoIsResumable) {
    // A plain handler would hold the only thread for its connection's life,
    // and the second client would never hear back.
    TempDir dir;
    HostProcess host(dir, event_server("echo", "threads = 1\n"));
    std::vector<Socket> clients;
    for (int i = 0; i < 5; ++i) clients.push_back(connect_tcp(host.port("ev")));
    for (int round = 0; round < 3; ++round) {
        for (std::size_t i = 0; i < clients.size(); ++i) {
            const std::string msg = "m" + std::to_string(i) + "-" + std::to_string(round) + "\n";
            clients[i].send_all(msg);
            ASSERT_EQ(clients[i].read_until("\n", 5s), msg) << "client " << i << " round " << round;
        }
    }
    // Bulk data larger than socket buffers still comes back whole.
    const std::string big(1 << 20, 'x');
    auto reader = std::async(std::launch::async, [&] { return clients[0].read_exactly(big.size(), 10s); });
    clients[0].send_all(big);
    EXPECT_EQ(reader.get(), big);
    for (auto& c : clients) {
        c.shutdown_write();
        EXPECT_EQ(c.read_all(5s), "");
    }
    EXPECT_EQ(host.stop(), 0) << host.log();
}

TEST(EventModel, AnIdleEchoConnectionIsClosedAfterIoTimeout) {
    TempDir dir;
    HostProcess host(dir, event_server("echo", "threads = 1\nio_timeout = 0.3\n"));
    Socket s = connect_tcp(host.port("ev"));
    s.send_all("ping\n");
    ASSERT_EQ(s.read_until("\n", 5s), "ping\n");
    const auto start = Clock::now();
    EXPECT_TRUE(s.peer_closed(5s));
    const auto waited = Clock::now() - start;
    EXPECT_GE(waited, 200ms);
    EXPECT_LT(waited, 3s);
    EXPECT_EQ(host.stop(), 0) << host.log();
}

TEST(EventModel, AnIdleKeepAliveConnectionCostsUnder20KiB) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    GTEST_SKIP() << "sanitizer runtimes inflate every allocation (redzones, shadow, quarantine); "
                    "the plain build measures this";
#endif
    constexpr int kConnections = 2000;
    ASSERT_GE(raise_open_files(2 * kConnections + 200), static_cast<rlim_t>(kConnections + 200))
        << "needs more descriptors than `ulimit -n` allows";
    TempDir dir;
    HostProcess host(dir, event_server(kHello, "threads = 2\n  [server.options]\n  keepalive_timeout = 120\n"));
    const auto port = host.port("ev");
    auto open_idle = [port](std::vector<Socket>& into, int n) {
        for (int i = 0; i < n; ++i) {
            Socket s = connect_tcp(port);
            s.send_all(get("/x"));
            if (s.read_until("hello /x").find("hello /x") == std::string::npos) return false;
            into.push_back(std::move(s));
        }
        return true;
    };
    // Warm up (threads, heap arenas, the first buffers), then measure.
    std::vector<Socket> warm, idle;
    ASSERT_TRUE(open_idle(warm, 100));
    std::this_thread::sleep_for(100ms);
    const long before = rss_kib(host.serving_pid());
    ASSERT_TRUE(open_idle(idle, kConnections));
    std::this_thread::sleep_for(100ms);
    const long after = rss_kib(host.serving_pid());
    const double per_connection = static_cast<double>(after - before) * 1024.0 / kConnections;
    std::cout << "[ measure  ] idle connection RSS: " << per_connection << " bytes each (" << before
              << " KiB -> " << after << " KiB for " << kConnections << ")\n";
    RecordProperty("idle_connection_rss_bytes", static_cast<int>(per_connection));
    EXPECT_LT(per_connection, 20 * 1024.0);
    // They are all still alive: the last one is served again.
    idle.back().send_all(get("/still", true));
    EXPECT_NE(idle.back().read_all(5s).find("hello /still"), std::string::npos);
    EXPECT_GE(count_open_fds(host.serving_pid()), kConnections);
    EXPECT_EQ(host.stop(), 0) << host.log();
}

}  // namespace
}  // namespace sockhost::testing
