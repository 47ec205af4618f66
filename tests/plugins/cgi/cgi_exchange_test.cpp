// SPDX-License-Identifier: MIT
// CgiExchange under the SDK test kit: its output steps driven alone (the
// header block, framing, cuts, redirects), and whole runs of a real script
// whose request body reaches it only through the HTTP layer.
#include <gtest/gtest.h>

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include <sockhost/sdk.hpp>
#include <sockhost/sdk/http/base_http_request_handler.hpp>
#include <sockhost/sdk/posix/unique_fd.hpp>
#include <sockhost/sdk/testkit.hpp>

#include "cgi/cgi_exchange.hpp"
#include "cgi/cgi_process.hpp"

namespace cg = sockhost::plugins::cgi;
namespace sdk = sockhost::sdk;
namespace testkit = sockhost::sdk::testkit;
using namespace std::chrono_literals;

namespace {

/// An HTTP handler whose every request runs `on_request` (a CgiExchange).
class ExchangeHandler : public sdk::http::BaseHTTPRequestHandler {
public:
    explicit ExchangeHandler(std::function<void(ExchangeHandler&)> on_request)
        : on_request_(std::move(on_request)) {}

protected:
    void dispatch() override { on_request_(*this); }

private:
    std::function<void(ExchangeHandler&)> on_request_;
};

/// Runs an exchange over a CgiProcess that never ran (reaped at once):
/// `steps` feeds it stdout, then finish(exited). Returns the wire output;
/// `location` gets what finish returned, and the handler then answers 204
/// itself (as cgi's route() serves the redirect).
std::string drive(const std::string& request, const std::function<void(cg::CgiExchange&)>& steps,
                  std::optional<std::string>* location = nullptr, std::vector<std::string>* log = nullptr) {
    ExchangeHandler h([&](ExchangeHandler& http) {
        cg::CgiProcess none;
        cg::CgiExchange x(http, none, "/cgi-bin/t", 30.0, false);
        steps(x);
        std::optional<std::string> l = x.finish(cg::CgiExchange::End::exited);
        if (location) *location = l;
        if (l) {
            http.send_response(204);
            http.end_headers();
        }
    });
    testkit::FakeServer server;
    testkit::Result r = testkit::run_stream(h, request, server);
    if (log) *log = r.log;
    return r.output;
}

const std::string kGet11 = "GET /cgi-bin/t HTTP/1.1\r\nHost: x\r\n\r\n";

bool logged(const std::vector<std::string>& log, std::string_view text) {
    return std::any_of(log.begin(), log.end(), [&](const std::string& l) { return l.find(text) != std::string::npos; });
}

// --- The output steps alone -------------------------------------------------------

TEST(CgiExchange, HeaderBlockInPiecesThenAChunkedBodyOnHttp11) {
    std::string out = drive(kGet11, [](cg::CgiExchange& x) {
        x.take_stdout("Content-Type: text/pl");
        x.take_stdout("ain\nX-A: 1\n\nhel");
        x.take_stdout("lo");
    });
    EXPECT_TRUE(out.starts_with("HTTP/1.1 200 OK\r\n")) << out;
    EXPECT_NE(out.find("Content-Type: text/plain\r\n"), std::string::npos) << out;
    EXPECT_NE(out.find("X-A: 1\r\n"), std::string::npos) << out;
    EXPECT_NE(out.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << out;
    EXPECT_TRUE(out.ends_with("\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n")) << out;
}

TEST(CgiExchange, ContentLengthCutsTheBodyAndIsLogged) {
    std::vector<std::string> log;
    std::string out = drive(
        kGet11, [](cg::CgiExchange& x) { x.take_stdout("Status: 201 Made\nContent-Length: 3\n\nhello"); }, nullptr,
        &log);
    EXPECT_TRUE(out.starts_with("HTTP/1.1 201 Made\r\n")) << out;
    EXPECT_NE(out.find("Content-Length: 3\r\n"), std::string::npos) << out;
    EXPECT_EQ(out.find("chunked"), std::string::npos) << out;
    EXPECT_TRUE(out.ends_with("\r\n\r\nhel")) << out;
    EXPECT_TRUE(logged(log, "cgi: /cgi-bin/t: more output than its Content-Length; cut"));
}

TEST(CgiExchange, ShortOfItsContentLengthClosesTheConnection) {
    std::vector<std::string> log;
    std::string out = drive(
        kGet11 + kGet11, [](cg::CgiExchange& x) { x.take_stdout("Content-Type: a/b\nContent-Length: 9\n\nhello"); },
        nullptr, &log);
    EXPECT_TRUE(logged(log, "less output than its Content-Length"));
    EXPECT_EQ(out.find("HTTP/1.1", 1), std::string::npos) << "a second request was answered: " << out;
}

TEST(CgiExchange, LocalRedirectIsReturnedNotAnswered) {
    std::optional<std::string> location;
    std::string out = drive(kGet11, [](cg::CgiExchange& x) { x.take_stdout("Location: /other?q\n\nignored"); },
                            &location);
    EXPECT_EQ(location, "/other?q");
    EXPECT_TRUE(out.starts_with("HTTP/1.1 204 ")) << out;   // the exchange itself sent nothing
    EXPECT_EQ(out.find("ignored"), std::string::npos) << out;
}

TEST(CgiExchange, InvalidOrMissingHeaderBlockIs502) {
    std::vector<std::string> log;
    std::string out = drive(kGet11, [](cg::CgiExchange& x) { x.take_stdout("no colon here\n\n"); }, nullptr, &log);
    EXPECT_TRUE(out.starts_with("HTTP/1.1 502 ")) << out;
    EXPECT_TRUE(logged(log, "cgi: /cgi-bin/t: invalid header block ("));
    out = drive(kGet11, [](cg::CgiExchange& x) { x.take_stdout("Content-Type: a/b\n"); }, nullptr, &log);
    EXPECT_TRUE(out.starts_with("HTTP/1.1 502 ")) << out;
    EXPECT_TRUE(logged(log, "no complete header block"));
}

TEST(CgiExchange, Http10BodyEndsAtCloseUnframed) {
    std::string out = drive("GET /cgi-bin/t HTTP/1.0\r\n\r\n",
                            [](cg::CgiExchange& x) { x.take_stdout("Content-Type: a/b\n\nraw"); });
    EXPECT_TRUE(out.starts_with("HTTP/1.1 200 OK\r\n")) << out;
    EXPECT_EQ(out.find("chunked"), std::string::npos) << out;
    EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos) << out;
    EXPECT_TRUE(out.ends_with("\r\n\r\nraw")) << out;
}

// --- Whole runs: the request body comes through the HTTP layer ---------------------

/// A connection whose bytes come from memory, `piece` bytes per read, while
/// its fd (one end of an idle socketpair) never turns readable: as a TLS
/// stream holding decrypted bytes the socket no longer shows.
class BufferingStream : public sdk::ByteStream {
public:
    BufferingStream(std::string input, std::size_t piece) : input_(std::move(input)), piece_(piece) {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
            throw std::system_error(errno, std::generic_category(), "socketpair");
        fd_.reset(sv[0]);
        idle_peer_.reset(sv[1]);
    }
    std::size_t read_some(char* buffer, std::size_t size) override {
        const std::size_t n = std::min({size, piece_, input_.size() - pos_});
        std::memcpy(buffer, input_.data() + pos_, n);
        pos_ += n;
        return n;
    }
    void write(std::string_view first, std::string_view second) override {
        output_.append(first);
        output_.append(second);
    }
    int fd() const override { return fd_.get(); }
    const std::string& output() const { return output_; }

private:
    std::string input_;
    std::size_t pos_ = 0;
    std::size_t piece_;
    std::string output_;
    sdk::posix::UniqueFd fd_;
    sdk::posix::UniqueFd idle_peer_;
};

/// A connection over a real socketpair: the test writes the client's bytes
/// to `peer` (and may stop halfway).
class SocketPairStream : public sdk::ByteStream {
public:
    SocketPairStream() {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
            throw std::system_error(errno, std::generic_category(), "socketpair");
        fd_.reset(sv[0]);
        peer.reset(sv[1]);
    }
    std::size_t read_some(char* buffer, std::size_t size) override {
        pollfd p{fd_.get(), POLLIN, 0};
        const int ms = timeout_.count() > 0 ? static_cast<int>(timeout_.count()) : -1;
        if (::poll(&p, 1, ms) == 0) throw sdk::TimeoutError("read timed out");
        const ssize_t n = ::recv(fd_.get(), buffer, size, 0);
        if (n < 0) throw std::system_error(errno, std::generic_category(), "recv");
        return static_cast<std::size_t>(n);
    }
    std::optional<std::size_t> read_nowait(char* buffer, std::size_t size) override {
        const ssize_t n = ::recv(fd_.get(), buffer, size, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return std::nullopt;
        if (n < 0) throw std::system_error(errno, std::generic_category(), "recv");
        return static_cast<std::size_t>(n);
    }
    void write(std::string_view first, std::string_view second) override {
        for (std::string_view part : {first, second})
            while (!part.empty()) {
                const ssize_t n = ::send(fd_.get(), part.data(), part.size(), MSG_NOSIGNAL);
                if (n < 0) throw std::system_error(errno, std::generic_category(), "send");
                part.remove_prefix(static_cast<std::size_t>(n));
            }
    }
    void set_timeout(std::chrono::milliseconds timeout) override { timeout_ = timeout; }
    std::chrono::milliseconds timeout() const override { return timeout_; }
    int fd() const override { return fd_.get(); }

    sdk::posix::UniqueFd peer;   // the client's end

private:
    sdk::posix::UniqueFd fd_;
    std::chrono::milliseconds timeout_{0};
};

/// A handler that runs `script` (sh -c) as a CGI script for every request,
/// with the request body on its stdin.
ExchangeHandler script_handler(std::string script, double cgi_timeout) {
    return ExchangeHandler([script = std::move(script), cgi_timeout](ExchangeHandler& http) {
        cg::SpawnSpec spec;
        spec.program = "/bin/sh";
        spec.argv = {"/bin/sh", "-c", script};
        spec.envp = {"PATH=/usr/bin:/bin"};
        spec.working_dir = "/";
        int exec_error = 0;
        cg::CgiProcess process = cg::CgiProcess::spawn(spec, exec_error);
        ASSERT_EQ(exec_error, 0);
        cg::CgiExchange x(http, process, "/cgi-bin/t", cgi_timeout, http.has_body());
        EXPECT_FALSE(x.run());
    });
}

std::string post_head(std::size_t length) {
    return "POST /cgi-bin/t HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: " +
           std::to_string(length) + "\r\n\r\n";
}

TEST(CgiExchange, TakesTheBodyFromTheHttpLayerNotFromTheSocket) {
    // More than the layer reads before dispatch (64 KiB), 1000 bytes a read,
    // none of them ever making the fd readable.
    const std::string body(200 * 1000, 'b');
    BufferingStream stream(post_head(body.size()) + body, 1000);
    ExchangeHandler h = script_handler("printf 'Content-Type: text/plain\\n\\n'; wc -c", 20.0);
    testkit::FakeServer server;
    const auto start = std::chrono::steady_clock::now();
    testkit::Result r = testkit::run_stream(h, stream, server);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
    const std::string& out = stream.output();
    EXPECT_TRUE(out.starts_with("HTTP/1.1 200 OK\r\n")) << out;
    EXPECT_NE(out.find("200000"), std::string::npos) << out;   // every body byte reached stdin
}

TEST(CgiExchange, ABodyThatStallsIsTheLayers408NotACgiTimeout) {
    SocketPairStream stream;
    const std::string part(1000, 'b');
    const std::string sent = post_head(100 * 1000) + part;
    ASSERT_EQ(::send(stream.peer.get(), sent.data(), sent.size(), 0), static_cast<ssize_t>(sent.size()));
    // The rest never comes; the client stays connected.
    ExchangeHandler h = script_handler("cat > /dev/null; printf 'Content-Type: text/plain\\n\\nread it'", 20.0);
    testkit::FakeServer server(sdk::Options{{"body_timeout", 0.3}});
    const auto start = std::chrono::steady_clock::now();
    testkit::run_stream(h, stream, server);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
    std::string out(4096, '\0');
    const ssize_t n = ::recv(stream.peer.get(), out.data(), out.size(), MSG_DONTWAIT);
    ASSERT_GT(n, 0);
    out.resize(static_cast<std::size_t>(n));
    EXPECT_TRUE(out.starts_with("HTTP/1.1 408 ")) << out;
}

TEST(CgiExchange, AClientThatClosesEndsTheRunAndKillsTheScript) {
    // The script would sleep far beyond the test; its client closes first,
    // having sent a whole request (a FIN after it counts as gone, too).
    for (const bool whole_close : {true, false}) {
        SocketPairStream stream;
        const std::string get = "GET /cgi-bin/t HTTP/1.1\r\nHost: x\r\n\r\n";
        ASSERT_EQ(::send(stream.peer.get(), get.data(), get.size(), 0), static_cast<ssize_t>(get.size()));
        std::optional<cg::CgiExchange::End> end;
        pid_t pid = -1;
        ExchangeHandler h([&](ExchangeHandler& http) {
            cg::SpawnSpec spec;
            spec.program = "/bin/sh";
            spec.argv = {"/bin/sh", "-c", "exec sleep 30"};
            spec.envp = {"PATH=/usr/bin:/bin"};
            spec.working_dir = "/";
            int exec_error = 0;
            cg::CgiProcess process = cg::CgiProcess::spawn(spec, exec_error);
            ASSERT_EQ(exec_error, 0);
            pid = process.pid();
            if (whole_close)
                stream.peer.reset();
            else
                ::shutdown(stream.peer.get(), SHUT_WR);
            cg::CgiExchange x(http, process, "/cgi-bin/t", 20.0, false);
            EXPECT_FALSE(x.run());
            EXPECT_TRUE(process.reaped());
            EXPECT_TRUE(WIFSIGNALED(process.wait_status()) && WTERMSIG(process.wait_status()) == SIGKILL);
        });
        testkit::FakeServer server;
        const auto start = std::chrono::steady_clock::now();
        testkit::Result r = testkit::run_stream(h, stream, server);
        EXPECT_LT(std::chrono::steady_clock::now() - start, 10s) << whole_close;
        EXPECT_GT(pid, 0);
        EXPECT_TRUE(logged(r.log, "cgi: /cgi-bin/t: client closed the connection; process group killed"))
            << whole_close;
    }
}

}  // namespace
