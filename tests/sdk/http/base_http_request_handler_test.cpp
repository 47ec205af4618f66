// SPDX-License-Identifier: MIT
// BaseHTTPRequestHandler driven by in-memory requests through the test kit.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <gtest/gtest.h>
#include <system_error>
#include <cstdlib>
#include <unistd.h>

#include <chrono>
#include <map>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "sockhost/sdk/errors.hpp"
#include "sockhost/sdk/http/base_http_request_handler.hpp"
#include "sockhost/sdk/testkit.hpp"

namespace sockhost::sdk::http {
namespace {

using testkit::FakeServer;

/// do_GET answers "hello <path>"; special paths exercise the framework.
class TestHandler : public BaseHTTPRequestHandler {
public:
    void do_GET() override {
        if (path == "/throw") throw std::runtime_error("boom");
        if (path == "/missing") return send_error(404, "<No> & such");
        if (path == "/redirect") {
            send_response(301);
            send_header("Location", "//evil.example/x");
            send_header("Content-Length", "0");
            end_headers();
            return;
        }
        if (path == "/nolength") {
            send_response(200);
            end_headers();
            write_body("unframed");
            return;
        }
        if (path == "/silent") return;
        if (path == "/chunked" || path == "/chunked-cut") {
            send_response(200);
            send_header("Transfer-Encoding", "chunked");
            end_headers();
            write_body("hello");
            write_body("");   // nothing: an empty chunk would end the body
            write_body(", world");
            if (path == "/chunked-cut") abandon_response();
            return;
        }
        reply(200, "hello " + path);
    }
    void do_HEAD() override { do_GET(); }
    void do_POST() override {
        if (path == "/ignore") return reply(200, "ignored");
        if (path == "/nowait") {
            // What read_body_nowait finds: the buffered body, in pieces of 3.
            std::string got;
            char buf[3];
            while (std::optional<std::size_t> n = read_body_nowait(buf, sizeof buf)) {
                if (*n == 0) break;
                got.append(buf, *n) += '|';
            }
            return reply(200, got);
        }
        std::string body = read_body();
        reply(200, "got " + std::to_string(body.size()) + ": " + body);
    }

    void reply(int code, const std::string& body) {
        send_response(code);
        send_header("Content-Type", "text/plain");
        send_header("Content-Length", std::to_string(body.size()));
        end_headers();
        write_body(body);
    }
};

struct Response {
    std::string status_line;
    int code = 0;
    std::map<std::string, std::string> headers;   // lower-case names
    std::string body;
};

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

/// Splits the handler's output into responses (Content-Length framing; no
/// body after HEAD when `head` is set, nor for 1xx/204/304).
std::vector<Response> responses(std::string_view out, bool head = false) {
    std::vector<Response> list;
    while (!out.empty()) {
        std::size_t end = out.find("\r\n\r\n");
        if (end == std::string_view::npos) {
            ADD_FAILURE() << "incomplete head: " << out;
            break;
        }
        std::string_view head_text = out.substr(0, end + 2);
        out.remove_prefix(end + 4);
        Response r;
        std::size_t eol = head_text.find("\r\n");
        r.status_line = std::string(head_text.substr(0, eol));
        r.code = std::stoi(r.status_line.substr(9, 3));
        head_text.remove_prefix(eol + 2);
        while (!head_text.empty()) {
            eol = head_text.find("\r\n");
            std::string_view line = head_text.substr(0, eol);
            std::size_t colon = line.find(": ");
            r.headers[lower(std::string(line.substr(0, colon)))] = std::string(line.substr(colon + 2));
            head_text.remove_prefix(eol + 2);
        }
        bool bodyless = head || r.code < 200 || r.code == 204 || r.code == 304;
        if (!bodyless && r.headers.count("content-length")) {
            std::size_t n = std::stoul(r.headers["content-length"]);
            r.body = std::string(out.substr(0, n));
            out.remove_prefix(std::min(n, out.size()));
        } else if (!bodyless && r.code >= 200) {
            r.body = std::string(out);
            out = {};
        }
        list.push_back(std::move(r));
    }
    return list;
}

testkit::Result run(std::string input, Options options = {}, std::size_t chunk = static_cast<std::size_t>(-1)) {
    FakeServer server(std::move(options));
    TestHandler handler;
    return testkit::run_stream(handler, std::move(input), server, chunk);
}

std::vector<std::string> access_lines(const testkit::Result& r) {
    std::vector<std::string> out;
    for (const auto& l : r.log)
        if (l.rfind("access: ", 0) == 0) out.push_back(l.substr(8));
    return out;
}

// --- Keep-alive and connection handling -------------------------------------

TEST(HttpBaseHTTPRequestHandler, ServesPipelinedRequestsOnOneConnection) {
    auto r = run("GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
                 "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n"
                 "GET /3 HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT_FALSE(r.error);
    auto list = responses(r.output);
    ASSERT_EQ(list.size(), 3u);
    EXPECT_EQ(list[0].body, "hello /1");
    EXPECT_EQ(list[1].body, "hello /2");
    EXPECT_EQ(list[2].body, "hello /3");
    EXPECT_EQ(list[0].status_line, "HTTP/1.1 200 OK");
    EXPECT_EQ(list[0].headers.count("connection"), 0u);
    EXPECT_EQ(access_lines(r).size(), 3u);
}

TEST(HttpBaseHTTPRequestHandler, ServesPipelinedRequestsFedOneByteAtATime) {
    auto r = run("GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
                 "POST /2 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: v\r\n\r\n"
                 "GET /3 HTTP/1.1\r\nHost: h\r\n\r\n",
                 {}, 1);
    auto list = responses(r.output);
    ASSERT_EQ(list.size(), 3u);
    EXPECT_EQ(list[1].body, "got 5: abcde");
    EXPECT_EQ(list[2].body, "hello /3");
}

TEST(HttpBaseHTTPRequestHandler, ClosesHttp10ConnectionsByDefault) {
    auto r = run("GET /a HTTP/1.0\r\n\r\nGET /b HTTP/1.0\r\n\r\n");
    auto list = responses(r.output);
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].headers["connection"], "close");
}

TEST(HttpBaseHTTPRequestHandler, KeepsHttp10AliveWhenAsked) {
    auto r = run("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n");
    auto list = responses(r.output);
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].headers["connection"], "keep-alive");
    EXPECT_EQ(list[1].headers["connection"], "close");
}

TEST(HttpBaseHTTPRequestHandler, HonoursConnectionClose) {
    auto r = run("GET /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n");
    auto list = responses(r.output);
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].headers["connection"], "close");
}

TEST(HttpBaseHTTPRequestHandler, StopsAfterMaxKeepaliveRequests) {
    std::string one = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
    auto r = run(one + one + one, Options{{"max_keepalive_requests", std::int64_t{2}}});
    auto list = responses(r.output);
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[1].headers["connection"], "close");
}

TEST(HttpBaseHTTPRequestHandler, ClosesWhenTheResponseHasNoLength) {
    auto r = run("GET /nolength HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
    auto list = responses(r.output);
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].headers["connection"], "close");
    EXPECT_EQ(list[0].body, "unframed");
}

TEST(HttpBaseHTTPRequestHandler, AddsServerAndDateHeaders) {
    auto list = responses(run("GET / HTTP/1.1\r\nHost: h\r\n\r\n").output);
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].headers["server"], "sockhost/0.1");
    EXPECT_TRUE(std::regex_match(list[0].headers["date"],
                                 std::regex(R"([A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT)")))
        << list[0].headers["date"];
}

TEST(HttpBaseHTTPRequestHandler, FormatsImfFixdate) {
    EXPECT_EQ(BaseHTTPRequestHandler::date_time_string(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_EQ(BaseHTTPRequestHandler::date_time_string(0), "Thu, 01 Jan 1970 00:00:00 GMT");
}

// --- Errors ------------------------------------------------------------------

TEST(HttpBaseHTTPRequestHandler, Answers501ForUnknownMethods) {
    auto r = run("BREW /pot HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
    auto list = responses(r.output);
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].status_line, "HTTP/1.1 501 Unsupported method ('BREW')");
    EXPECT_NE(list[0].body.find("<p>Message: Unsupported method ('BREW').</p>"), std::string::npos);
    EXPECT_EQ(list[1].code, 200);
}

TEST(HttpBaseHTTPRequestHandler, SendsPythonsErrorPageWithEscaping) {
    auto r = run("GET /missing HTTP/1.1\r\nHost: h\r\n\r\n");
    auto list = responses(r.output);
    ASSERT_EQ(list.size(), 1u);
    const Response& e = list[0];
    EXPECT_EQ(e.code, 404);
    EXPECT_EQ(e.headers.at("content-type"), "text/html;charset=utf-8");
    EXPECT_EQ(e.headers.at("content-length"), std::to_string(e.body.size()));
    EXPECT_EQ(e.body,
              "<!DOCTYPE HTML>\n<html lang=\"en\">\n    <head>\n        <meta charset=\"utf-8\">\n"
              "        <title>Error response</title>\n    </head>\n    <body>\n"
              "        <h1>Error response</h1>\n        <p>Error code: 404</p>\n"
              "        <p>Message: &lt;No&gt; &amp; such.</p>\n"
              "        <p>Error code explanation: 404 - Nothing matches the given URI.</p>\n"
              "    </body>\n</html>\n");
    // A handler's 404 keeps the connection.
    EXPECT_EQ(e.headers.count("connection"), 0u);
}

TEST(HttpBaseHTTPRequestHandler, SendsNoBodyForHead) {
    auto r = run("HEAD /x HTTP/1.1\r\nHost: h\r\n\r\nHEAD /missing HTTP/1.1\r\nHost: h\r\n\r\n"
                 "GET /y HTTP/1.1\r\nHost: h\r\n\r\n");
    std::string_view out = r.output;
    std::size_t first = out.find("\r\n\r\n") + 4;
    std::size_t second = out.find("\r\n\r\n", first) + 4;
    auto heads = responses(out.substr(0, second), true);
    ASSERT_EQ(heads.size(), 2u);
    EXPECT_EQ(heads[0].headers["content-length"], "8");   // what GET would send
    EXPECT_EQ(heads[1].code, 404);
    auto rest = responses(out.substr(second));
    ASSERT_EQ(rest.size(), 1u);
    EXPECT_EQ(rest[0].body, "hello /y");
}

TEST(HttpBaseHTTPRequestHandler, Answers400AndClosesForParserErrors) {
    struct Case {
        std::string request;
        int code;
    };
    std::vector<Case> cases = {
        {"GET / HTTP/1.1\r\n\r\n", 400},                                         // no Host
        {"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400},                // obs-fold
        {"GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400},                             // space before colon
        {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
        {"GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505},
        {"GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n", 414},
    };
    for (const Case& c : cases) {
        auto r = run(c.request + "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        auto list = responses(r.output);
        ASSERT_EQ(list.size(), 1u) << c.request.substr(0, 60);
        EXPECT_EQ(list[0].code, c.code) << c.request.substr(0, 60);
        EXPECT_EQ(list[0].headers["connection"], "close");
    }
}

TEST(HttpBaseHTTPRequestHandler, Answers431ForTooManyFields) {
    std::string req = "GET / HTTP/1.1\r\nHost: h\r\n";
    for (int i = 0; i < 5; ++i) req += "X-" + std::to_string(i) + ": v\r\n";
    auto r = run(req + "\r\n", Options{{"max_header_count", std::int64_t{4}}});
    auto list = responses(r.output);
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].code, 431);
}

TEST(HttpBaseHTTPRequestHandler, Answers400ForABadChunkedBody) {
    auto r = run("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
    auto list = responses(r.output);
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].code, 400);
    EXPECT_EQ(list[0].headers["connection"], "close");
}

TEST(HttpBaseHTTPRequestHandler, TurnsAHandlerExceptionInto500AndLogsIt) {
    auto r = run("GET /throw HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT_FALSE(r.error);
    auto list = responses(r.output);
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].code, 500);
    EXPECT_EQ(list[0].headers["connection"], "close");
    bool logged = false;
    for (const auto& l : r.log) logged = logged || l.find("boom") != std::string::npos;
    EXPECT_TRUE(logged);
}

TEST(HttpBaseHTTPRequestHandler, Answers500WhenTheHandlerSendsNothing) {
    auto list = responses(run("GET /silent HTTP/1.1\r\nHost: h\r\n\r\n").output);
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].code, 500);
}

/// Tries send_header with CR, LF or NUL (and with other controls) at every
/// position of values of 1 to 24 bytes; answers with the counts.
class InjectionProbe : public BaseHTTPRequestHandler {
public:
    void do_GET() override {
        int rejected = 0, bad_tries = 0, accepted = 0, fine_tries = 0;
        send_response(200);
        for (std::size_t len = 1; len <= 24; ++len) {
            for (std::size_t pos = 0; pos < len; ++pos) {
                for (char c : std::string("\r\n\0\t\x0b\x7f", 6)) {
                    std::string value(len, 'v');
                    value[pos] = c;
                    const bool bad = c == '\r' || c == '\n' || c == '\0';
                    (bad ? bad_tries : fine_tries)++;
                    try {
                        send_header("X-Probe", value);
                        if (!bad) ++accepted;
                    } catch (const std::invalid_argument&) {
                        if (bad) ++rejected;
                    }
                }
            }
        }
        const std::string body = std::to_string(rejected) + "/" + std::to_string(bad_tries) + " " +
                                 std::to_string(accepted) + "/" + std::to_string(fine_tries);
        send_header("Content-Length", std::to_string(body.size()));
        end_headers();
        write_body(body);
    }
};

TEST(HttpBaseHTTPRequestHandler, RefusesCrLfAndNulAnywhereInAFieldValue) {
    FakeServer server;
    InjectionProbe handler;
    auto r = testkit::run_stream(handler, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", server);
    // 300 values per character: 1 + 2 + ... + 24 positions.
    EXPECT_NE(r.output.find("\r\n\r\n900/900 900/900"), std::string::npos) << r.output.substr(r.output.size() - 40);
}

TEST(HttpBaseHTTPRequestHandler, NeverEmitsAProtocolRelativeLocation) {
    auto list = responses(run("GET /redirect HTTP/1.1\r\nHost: h\r\n\r\n").output);
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].headers["location"], "/evil.example/x");
}

TEST(HttpBaseHTTPRequestHandler, ClosesSilentlyOnEmptyInput) {
    auto r = run("");
    EXPECT_FALSE(r.error);
    EXPECT_EQ(r.output, "");
    EXPECT_TRUE(access_lines(r).empty());
}

// --- Request bodies ------------------------------------------------------------

TEST(HttpBaseHTTPRequestHandler, ReadsAContentLengthBody) {
    auto list = responses(run("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello").output);
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].body, "got 5: hello");
}

TEST(HttpBaseHTTPRequestHandler, SendsContinueWhenTheBodyIsRead) {
    auto r = run("POST /p HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi");
    EXPECT_EQ(r.output.rfind("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n", 0), 0u) << r.output;
    auto list = responses(r.output);
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[1].body, "got 2: hi");
}

TEST(HttpBaseHTTPRequestHandler, SendsNoContinueWhenTheBodyIsNotRead) {
    auto r = run("POST /ignore HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi"
                 "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    auto list = responses(r.output);
    ASSERT_EQ(list.size(), 1u);   // the body may never come: close
    EXPECT_EQ(list[0].body, "ignored");
    EXPECT_EQ(r.output.find("100 Continue"), std::string::npos);
}

TEST(HttpBaseHTTPRequestHandler, DrainsAnUnreadBodyBeforeTheNextRequest) {
    auto r = run("POST /ignore HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
                 "POST /ignore HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n"
                 "GET /next HTTP/1.1\r\nHost: h\r\n\r\n");
    auto list = responses(r.output);
    ASSERT_EQ(list.size(), 3u);
    EXPECT_EQ(list[2].body, "hello /next");
}

TEST(HttpBaseHTTPRequestHandler, Answers413ForALargeDeclaredBody) {
    auto r = run("POST /p HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 20\r\n\r\n",
                 Options{{"max_body_size", std::int64_t{10}}});
    auto list = responses(r.output);
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].code, 413);
    EXPECT_EQ(list[0].headers["connection"], "close");
    EXPECT_EQ(r.output.find("100 Continue"), std::string::npos);
}

TEST(HttpBaseHTTPRequestHandler, Answers413ForALargeChunkedBody) {
    auto r = run("POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n",
                 Options{{"max_body_size", std::int64_t{10}}});
    auto list = responses(r.output);
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].code, 413);
}

// --- Logging ---------------------------------------------------------------

TEST(HttpBaseHTTPRequestHandler, LogsInCommonLogFormat) {
    auto r = run("GET /x HTTP/1.1\r\nHost: h\r\n\r\n");
    auto lines = access_lines(r);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_TRUE(std::regex_match(
        lines[0], std::regex(R"(127\.0\.0\.1 - - \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET /x HTTP/1\.1" 200 8)")))
        << lines[0];
}

TEST(HttpBaseHTTPRequestHandler, EscapesControlCharactersInTheLog) {
    auto r = run("GET /a\x1b[31m\x01 HTTP/1.1\r\nHost: h\r\n\r\n");
    auto lines = access_lines(r);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("\"GET /a\\x1b[31m\\x01 HTTP/1.1\" 400 "), std::string::npos) << lines[0];
    for (const auto& l : r.log)
        for (char c : l) EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20) << l;
}

// --- Timeouts (a stream that stalls like a slow client) ----------------------

/// Hands out `input` `step` bytes per read, `delay` apart, as a socket
/// would: a read that would not wait finds nothing until the next bytes are
/// due; a waiting read honours the timeout set on it. Once the input is out
/// it stalls until the timeout.
class SlowStream : public ByteStream {
public:
    using Clock = std::chrono::steady_clock;
    SlowStream(std::string input, std::size_t step, std::chrono::milliseconds delay, std::string* output)
        : input_(std::move(input)), step_(step), delay_(delay), next_(Clock::now() + delay), output_(output) {}
    std::optional<std::size_t> read_nowait(char* buffer, std::size_t size) override {
        if (pos_ >= input_.size() || Clock::now() < next_) return std::nullopt;
        return take(buffer, size);
    }
    std::size_t read_some(char* buffer, std::size_t size) override {
        const auto until = pos_ < input_.size() ? next_ : Clock::time_point::max();
        if (timeout_.count() > 0 && until > Clock::now() + timeout_) {
            std::this_thread::sleep_for(timeout_);
            throw TimeoutError("recv timed out");
        }
        std::this_thread::sleep_until(until);
        return take(buffer, size);
    }
    void write(std::string_view first, std::string_view second) override { output_->append(first).append(second); }
    void set_timeout(std::chrono::milliseconds t) override { timeout_ = t; }
    std::chrono::milliseconds timeout() const override { return timeout_; }

private:
    std::size_t take(char* buffer, std::size_t size) {
        std::size_t n = std::min({size, step_, input_.size() - pos_});
        std::copy_n(input_.data() + pos_, n, buffer);
        pos_ += n;
        next_ = Clock::now() + delay_;
        return n;
    }
    std::string input_;
    std::size_t pos_ = 0;
    std::size_t step_;
    std::chrono::milliseconds delay_;
    Clock::time_point next_;
    std::string* output_;
    std::chrono::milliseconds timeout_{0};
};

struct SlowRun {
    std::string output;
    std::vector<std::string> log;
    double seconds = 0;
};

SlowRun run_slow(std::string input, std::size_t step, std::chrono::milliseconds delay, Options options) {
    FakeServer server(std::move(options));
    TestHandler handler;
    SlowRun result;
    SlowStream stream(std::move(input), step, delay, &result.output);
    auto start = std::chrono::steady_clock::now();
    testkit::Result r = testkit::run_stream(handler, stream, server);
    EXPECT_FALSE(r.error);
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    result.log = server.lines();
    return result;
}

TEST(HttpBaseHTTPRequestHandler, CutsOffATricklingClientAtHeaderTimeout) {
    // 1 byte every 20 ms would take > 1 s; the head gets 0.3 s in all.
    auto r = run_slow("GET /slow HTTP/1.1\r\nHost: h\r\nX: " + std::string(40, 'x') + "\r\n\r\n", 1,
                      std::chrono::milliseconds(20), Options{{"header_timeout", 0.3}});
    auto list = responses(r.output);
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].code, 408);
    EXPECT_EQ(list[0].headers["connection"], "close");
    EXPECT_LT(r.seconds, 0.9);
}

TEST(HttpBaseHTTPRequestHandler, ClosesAnIdleConnectionSilently) {
    auto r = run_slow("GET / HTTP/1.1\r\nHost: h\r\n\r\n", 1000, std::chrono::milliseconds(0),
                      Options{{"keepalive_timeout", 0.1}});
    auto list = responses(r.output);
    ASSERT_EQ(list.size(), 1u);   // the request, then nothing for the idle wait
    EXPECT_EQ(list[0].code, 200);
    EXPECT_LT(r.seconds, 0.9);
}

TEST(HttpBaseHTTPRequestHandler, Answers408WhenTheBodyStalls) {
    auto r = run_slow("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc", 1000,
                      std::chrono::milliseconds(0), Options{{"body_timeout", 0.1}});
    auto list = responses(r.output);
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].code, 408);
}

// --- Options -----------------------------------------------------------------

TEST(HttpLimits, ReadsDefaultsAndOptions) {
    Limits d = Limits::from_options(Options{});
    EXPECT_EQ(d.max_request_line, 8192u);
    EXPECT_EQ(d.max_keepalive_requests, 1000u);
    Limits l = Limits::from_options(Options{{"max_body_size", std::int64_t{5}}, {"header_timeout", std::int64_t{2}}});
    EXPECT_EQ(l.max_body_size, 5u);
    EXPECT_EQ(l.header_timeout, 2.0);
    EXPECT_EQ(Limits::option_keys().size(), 9u);
}

constexpr std::string_view kDirectoryKey[] = {"directory"};

TEST(HttpLimits, RejectsWrongTypesAndRanges) {
    EXPECT_THROW(Limits::from_options(Options{{"max_body_size", std::string("big")}}), OptionError);
    EXPECT_THROW(Limits::from_options(Options{{"header_timeout", 0.0}}), OptionError);
    EXPECT_THROW(Limits::from_options(Options{{"max_header_count", std::int64_t{0}}}), OptionError);
    try {
        validate_http_options(Options{{"directory", std::string(".")}, {"bogus", true}}, kDirectoryKey);
        FAIL() << "no OptionError";
    } catch (const OptionError& e) {
        EXPECT_EQ(e.key(), "bogus");
    }
    EXPECT_NO_THROW(validate_http_options(Options{{"directory", std::string(".")}, {"body_timeout", 1.5}},
                                          kDirectoryKey));
}

TEST(HttpStatus, HasReasonPhrases) {
    EXPECT_EQ(reason_phrase(404), "Not Found");
    EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
    EXPECT_EQ(reason_phrase(799), "");
}

TEST(HttpHeaders, LooksUpNamesCaseInsensitively) {
    Headers h;
    h.add("Accept", "a");
    h.add("accept", "b");
    EXPECT_EQ(h.get("ACCEPT"), "a");
    EXPECT_EQ(h.get_all("Accept"), "a, b");
    EXPECT_FALSE(h.contains("Host"));
}

// --- Chunked responses -----------------------------------------------------------

TEST(HttpBaseHTTPRequestHandler, FramesAChunkedResponseAndEndsIt) {
    auto r = run("GET /chunked HTTP/1.1\r\nHost: h\r\n\r\nGET /after HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT_FALSE(r.error);
    const std::size_t body = r.output.find("\r\n\r\n") + 4;
    EXPECT_EQ(r.output.substr(body, r.output.find("HTTP/1.1", body) - body),
              "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n");
    // The connection stays usable: the next answer follows the last chunk.
    EXPECT_NE(r.output.find("hello /after"), std::string::npos) << r.output;
}

TEST(HttpBaseHTTPRequestHandler, AnAbandonedChunkedResponseGetsNoLastChunkAndCloses) {
    auto r = run("GET /chunked-cut HTTP/1.1\r\nHost: h\r\n\r\nGET /after HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT_FALSE(r.error);
    EXPECT_EQ(r.output.find("0\r\n\r\n"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("7\r\n, world\r\n"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("hello /after"), std::string::npos) << "closed after the cut answer";
}

TEST(HttpBaseHTTPRequestHandler, ReadBodyNowaitHandsOutWhatHasArrived) {
    auto r = run("POST /nowait HTTP/1.1\r\nHost: h\r\nContent-Length: 7\r\n\r\nabcdefg", {}, 2);
    auto list = responses(r.output);
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].body, "abc|def|g|");
}

// --- A client gone mid-response ---------------------------------------------

/// Reads `input`, then fails every write as a connection the client reset.
class ResetStream : public ByteStream {
public:
    explicit ResetStream(std::string input) : input_(std::move(input)) {}
    std::size_t read_some(char* buffer, std::size_t size) override {
        std::size_t n = std::min(size, input_.size() - pos_);
        std::copy_n(input_.data() + pos_, n, buffer);
        pos_ += n;
        return n;
    }
    void write(std::string_view, std::string_view) override {
        throw std::system_error(ECONNRESET, std::generic_category(), "send");
    }

private:
    std::string input_;
    std::size_t pos_ = 0;
};

/// Sends a 10-byte file body after its head (as http_static does).
class FileHandler : public BaseHTTPRequestHandler {
public:
    explicit FileHandler(int fd) : fd_(fd) {}
    void do_GET() override {
        send_response(200);
        send_header("Content-Length", "10");
        end_headers();
        send_file(fd_, 0, 10);
    }

private:
    int fd_;
};

TEST(HttpBaseHTTPRequestHandler, AClientGoneMidResponseIsNotBlamedOnTheHandler) {
    // The head's send fails (the client reset the connection): the response
    // is abandoned and the connection closed; the handler declared and sent
    // a correct framing, so no "Content-Length said" warning.
    char name[] = "/tmp/sockhost-reset-XXXXXX";
    const int fd = ::mkstemp(name);
    ASSERT_GE(fd, 0);
    ::unlink(name);
    ASSERT_EQ(::write(fd, "0123456789", 10), 10);
    FakeServer server;
    FileHandler handler(fd);
    ResetStream stream("GET /f HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_FALSE(testkit::run_stream(handler, stream, server).error);
    ::close(fd);
    const auto lines = server.lines();
    for (const auto& l : lines) EXPECT_EQ(l.find("Content-Length said"), std::string::npos) << l;
    ASSERT_FALSE(lines.empty());
    EXPECT_NE(lines.back().find("\"GET /f HTTP/1.1\" 200"), std::string::npos) << lines.back();
}

}  // namespace
}  // namespace sockhost::sdk::http
