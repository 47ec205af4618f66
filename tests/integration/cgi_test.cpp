// SPDX-License-Identifier: MIT
// The cgi plugin against the real sockhost binary: real sh and python3
// scripts in a temporary docroot, raw HTTP on real sockets, servers.toml
// written inline. The host runs as the test does; as root, scripts run as
// cgi_user "nobody", so the docroot is world-readable and out/ writable.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/host_process.hpp"
#include "support/http_client.hpp"

namespace sockhost::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kLeakMarker = "SOCKHOST_CGI_TEST_LEAK_MARKER";

std::string request(std::string_view method, std::string_view target, std::string_view extra = {},
                    std::string_view body = {}, bool close = true) {
    std::string r = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: localhost\r\n" +
                    std::string(extra);
    if (!body.empty()) r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    if (close) r += "Connection: close\r\n";
    return r + "\r\n" + std::string(body);
}

/// "NAME=value" lines of env.sh's output.
std::map<std::string, std::string> parse_env(const std::string& body) {
    std::map<std::string, std::string> env;
    std::size_t pos = 0;
    while (pos < body.size()) {
        std::size_t nl = body.find('\n', pos);
        std::string line = body.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
        pos = nl == std::string::npos ? body.size() : nl + 1;
        std::size_t eq = line.find('=');
        if (eq != std::string::npos && eq > 0 && line.find(' ') > eq) env[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return env;
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// True once /proc/PID is gone: neither running nor a zombie.
bool process_gone(pid_t pid, std::chrono::milliseconds timeout = 3s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (fs::exists("/proc/" + std::to_string(pid))) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

/// The docroot every host serves, the hosts (one per concurrency model,
/// started on first use) and the servers each has:
///   main  — defaults;  quick — cgi_timeout = 1;  one — max_cgi = 1 and
///   cgi_queue_timeout = 1;
///   spool — chunked bodies over 1 KiB spooled to dir/spool, at most 1,100,000 bytes.
class CgiHosts {
public:
    static void set_up() {
        // The host inherits the test's environment; scripts must not see it.
        ::setenv(kLeakMarker, "leaked", 1);
        dir_ = std::make_unique<TempDir>();
        const TempDir& d = *dir_;
        fs::permissions(d.path(), fs::perms::all, fs::perm_options::add);   // nobody must traverse it
        fs::path root = d / "root";
        fs::create_directories(root / "cgi-bin" / "sub");
        fs::create_directories(d / "out");
        fs::permissions(d / "out", fs::perms::all);
        // The shipped demo scripts, as they are in the repository.
        for (const char* name : {"env.sh", "form.py"})
            fs::copy_file(fs::path(SOCKHOST_SOURCE_DIR) / "www" / "cgi-bin" / name, root / "cgi-bin" / name);
        d.write("root/hello.txt", "Hello, static!\n");
        auto script = [&d](const std::string& name, const std::string& body) {
            d.write("root/cgi-bin/" + name, "#!/bin/sh\n" + body, true);
        };
        const std::string plain = "printf 'Content-Type: text/plain\\r\\n\\r\\n'\n";
        script("cat.sh", "printf 'Content-Type: application/octet-stream\\r\\n\\r\\n'\nexec cat\n");
        script("query.sh", plain + "printf '%s|%s|%s' \"$QUERY_STRING\" \"$#\" \"$PATH_INFO\"\n");
        script("sub/deep.sh", plain + "printf 'deep %s %s' \"$SCRIPT_NAME\" \"$PATH_INFO\"\n");
        script("status.sh", "printf 'Status: 404 Not Here\\r\\nContent-Type: text/plain\\r\\nX-Script: yes\\r\\n\\r\\nmissing'\n");
        script("local.sh", "printf 'Location: /cgi-bin/env.sh?from=local\\r\\n\\r\\n'\n");
        script("local_static.sh", "printf 'Location: /hello.txt\\n\\n'\n");
        script("loop.sh", "printf 'Location: /cgi-bin/loop.sh\\n\\n'\n");
        script("client.sh", "printf 'Location: http://example.org/next\\r\\n\\r\\n'\n");
        script("fail.sh", "echo 'something broke' >&2\nexit 3\n");
        script("garbage.sh", "printf 'this is not a header block\\n\\n'\n");
        script("nothing.sh", "exit 0\n");
        script("slow.sh", "echo $$ > ../../out/slow.$QUERY_STRING\nsleep 30\necho never\n");
        script("late.sh", plain + "echo started\necho $$ > ../../out/late.$QUERY_STRING\nsleep 30\n");
        script("hold.sh", plain + ": > ../../out/hold.started\ncat > /dev/null\necho done\n");
        script("nap.sh", "sleep 0.5\nprintf 'Content-Type: text/plain\\r\\n\\r\\nrested'\n");
        script("big.sh", plain + "head -c 300000 /dev/zero | tr '\\0' x\n");
        script("nostdin.sh", plain + "head -c 300000 /dev/zero | tr '\\0' y\n");
        script("length.sh", "printf 'Content-Type: text/plain\\r\\nContent-Length: 5\\r\\n\\r\\nhello'\n");
        script("stderr.sh", plain + "echo 'line one' >&2\necho 'line two' >&2\necho ok\n");
        d.write("root/cgi-bin/noexec.sh", "#!/bin/sh\necho hi\n");   // 0644
        // Reads exactly CONTENT_LENGTH bytes, as real scripts do, then
        // answers "CONTENT_LENGTH read left\n" and what it read (left: what
        // stdin still held after them). ?wait: first says so in
        // out/exact.ready and waits (bounded) for out/exact.go.
        d.write("root/cgi-bin/exact.py",
                "#!/usr/bin/env python3\n"
                "import os, sys, time\n"
                "if os.environ.get('QUERY_STRING') == 'wait':\n"
                "    open('../../out/exact.ready', 'w').close()\n"
                "    for _ in range(2000):\n"
                "        if os.path.exists('../../out/exact.go'): break\n"
                "        time.sleep(0.01)\n"
                "n = os.environ.get('CONTENT_LENGTH')\n"
                "data = sys.stdin.buffer.read(int(n)) if n else b''\n"
                "left = sys.stdin.buffer.read()\n"
                "out = sys.stdout.buffer\n"
                "out.write(b'Content-Type: application/octet-stream\\r\\n\\r\\n')\n"
                "out.write(('%s %d %d\\n' % (n, len(data), len(left))).encode())\n"
                "out.write(data)\n",
                true);
        fs::create_directories(d / "spool");
        // Runs until killed: ?TAG.quiet sleeps without a word, ?TAG.sleepy
        // answers a line and sleeps, ?TAG.chatty writes without end. Its pid
        // goes to out/gone.TAG.KIND first.
        script("gone.sh", "echo $$ > ../../out/gone.$QUERY_STRING\n"
                          "case \"$QUERY_STRING\" in\n"
                          "*quiet) exec sleep 30 ;;\n"
                          "*sleepy) printf 'Content-Type: text/plain\\r\\n\\r\\nstarted\\n'; exec sleep 30 ;;\n"
                          "*) printf 'Content-Type: text/plain\\r\\n\\r\\n'; exec yes 0123456789abcdef ;;\n"
                          "esac\n");
    }
    static void tear_down() {
        hosts_.clear();
        dir_.reset();
        ::unsetenv(kLeakMarker);
    }

    static HostProcess& host(const std::string& model) {
        auto it = hosts_.find(model);
        if (it != hosts_.end()) return *it->second;
        std::string root = (*dir_ / "root").string();
        std::string config = host_section();
        for (const auto& [name, extra] : std::vector<std::pair<std::string, std::string>>{
                 {"main", ""},
                 {"quick", "  cgi_timeout = 1\n"},
                 {"one", "  max_cgi = 1\n  cgi_queue_timeout = 1.0\n"},
                 {"spool", "  body_buffer_size = 1024\n  max_body_size = 1100000\n  body_temp_dir = \"" +
                               (*dir_ / "spool").string() + "\"\n"}}) {
            config += "[[server]]\nname = \"" + name + "\"\nlisten = \"tcp://127.0.0.1:0\"\n"
                      "plugin = \"cgi\"\nconcurrency = \"" + model + "\"\n"
                      "  [server.options]\n  directory = \"" + root + "\"\n" + extra;
        }
        auto dir = std::make_unique<TempDir>();
        auto host = std::make_unique<HostProcess>(*dir, config);
        HostProcess& ref = *host;
        host_dirs_.push_back(std::move(dir));
        hosts_.emplace(model, std::move(host));
        return ref;
    }
    static std::uint16_t port(const std::string& model, const std::string& server = "main") {
        return host(model).port(server);
    }
    static const fs::path& dir() { return dir_->path(); }

private:
    static inline std::unique_ptr<TempDir> dir_;
    static inline std::map<std::string, std::unique_ptr<HostProcess>> hosts_;
    static inline std::vector<std::unique_ptr<TempDir>> host_dirs_;
};

/// `body` as a chunked body of `piece`-byte chunks, with its last chunk.
std::string chunked(std::string_view body, std::size_t piece) {
    std::string out;
    char size[32];
    for (std::size_t i = 0; i < body.size(); i += piece) {
        std::string_view part = body.substr(i, piece);
        std::snprintf(size, sizeof size, "%zx\r\n", part.size());
        out.append(size).append(part).append("\r\n");
    }
    return out + "0\r\n\r\n";
}

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 23);
    return s;
}

/// Whether `pid` holds an open descriptor to a deleted file under `dir`.
bool holds_deleted_file_in(pid_t pid, const fs::path& dir) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
        std::string target = fs::read_symlink(e.path(), ec).string();
        if (!ec && target.rfind(dir.string() + "/", 0) == 0 && target.ends_with(" (deleted)")) return true;
    }
    return false;
}

Response fetch(std::uint16_t port, const std::string& raw, bool head = false) {
    Client c(port);
    c.send(raw);
    return c.next(head);
}

// --- Every concurrency model ------------------------------------------------------

class CgiModels : public ::testing::TestWithParam<std::string> {
protected:
    static void SetUpTestSuite() { CgiHosts::set_up(); }
    static void TearDownTestSuite() { CgiHosts::tear_down(); }
    std::uint16_t port(const std::string& server = "main") { return CgiHosts::port(GetParam(), server); }
    HostProcess& host() { return CgiHosts::host(GetParam()); }
};

TEST_P(CgiModels, RunsAScriptWithTheRfc3875Environment) {
    Response r = fetch(port(), request("GET", "/cgi-bin/env.sh/extra/path?a=1&b=2",
                                       "Accept: text/html\r\nAccept: text/plain\r\nX-Custom: yes\r\n"
                                       "Proxy: http://evil.example:3128\r\n"));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-type"), "text/plain; charset=utf-8");
    EXPECT_TRUE(r.complete);
    auto env = parse_env(r.body);
    EXPECT_EQ(env["GATEWAY_INTERFACE"], "CGI/1.1");
    EXPECT_EQ(env["REQUEST_METHOD"], "GET");
    EXPECT_EQ(env["SCRIPT_NAME"], "/cgi-bin/env.sh");
    EXPECT_EQ(env["PATH_INFO"], "/extra/path");
    EXPECT_EQ(env["PATH_TRANSLATED"], fs::canonical(CgiHosts::dir() / "root").string() + "/extra/path");
    EXPECT_EQ(env["QUERY_STRING"], "a=1&b=2");
    EXPECT_EQ(env["REMOTE_ADDR"], "127.0.0.1");
    EXPECT_EQ(env["REMOTE_HOST"], "127.0.0.1");
    EXPECT_EQ(env["SERVER_NAME"], "localhost");
    EXPECT_EQ(env["SERVER_PORT"], std::to_string(port()));
    EXPECT_EQ(env["SERVER_PROTOCOL"], "HTTP/1.1");
    EXPECT_EQ(env["SERVER_SOFTWARE"].rfind("sockhost/", 0), 0u);
    EXPECT_EQ(env["HTTP_ACCEPT"], "text/html, text/plain");
    EXPECT_EQ(env["HTTP_X_CUSTOM"], "yes");
    EXPECT_EQ(env["PATH"], "/usr/local/bin:/usr/bin:/bin");
    EXPECT_EQ(env.count("HTTP_PROXY"), 0u) << "httpoxy";
    EXPECT_EQ(env.count(kLeakMarker), 0u) << "the host's environment leaked";
    EXPECT_EQ(env.count("HOME"), 0u);
    EXPECT_EQ(env.count("CONTENT_LENGTH"), 0u);
    if (::geteuid() == 0) {
        EXPECT_NE(r.body.find("uid 65534"), std::string::npos) << "root must drop to nobody";
    }
}

TEST_P(CgiModels, OnlyTheScriptDropsPrivilegesNotTheHost) {
    // The child changes its ids while it still shares the host's memory
    // (clone with CLONE_VM): the host keeps its own, and every later script
    // drops again.
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (cgi_user)";
    auto host_uid = [&] {
        std::ifstream status("/proc/" + std::to_string(host().serving_pid()) + "/status");
        std::string line;
        while (std::getline(status, line))
            if (line.rfind("Uid:", 0) == 0) return line;
        return std::string();
    };
    const std::string before = host_uid();
    ASSERT_NE(before.find("\t0\t0\t0\t0"), std::string::npos) << before;
    for (int i = 0; i < 5; ++i) {
        Response r = fetch(port(), request("GET", "/cgi-bin/env.sh"));
        ASSERT_EQ(r.status, 200) << "request " << i;
        EXPECT_NE(r.body.find("uid 65534"), std::string::npos) << "request " << i;
    }
    EXPECT_EQ(host_uid(), before);
}

TEST_P(CgiModels, PostsAFormToPython) {
    Response r = fetch(port(), request("POST", "/cgi-bin/form.py",
                                       "Content-Type: application/x-www-form-urlencoded\r\n",
                                       "name=%3Cb%3Ebold%3C%2Fb%3E&message=hi+there"));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
    EXPECT_NE(r.body.find("<li><b>name</b>: &lt;b&gt;bold&lt;/b&gt;</li>"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("<li><b>message</b>: hi there</li>"), std::string::npos) << r.body;

    r = fetch(port(), request("GET", "/cgi-bin/form.py"));
    ASSERT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("<form method=\"post\" action=\"/cgi-bin/form.py\">"), std::string::npos);
}

TEST_P(CgiModels, StreamsAChunkedBodyToStdin) {
    Client c(port());
    c.send("POST /cgi-bin/cat.sh HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
           "Connection: close\r\n\r\n5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n");
    Response r = c.next();
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "hello, world");
    EXPECT_TRUE(r.complete);
}

TEST_P(CgiModels, AChunkedBodyReachesTheScriptWithItsContentLength) {
    // RFC 3875 4.1.2: a script reads exactly CONTENT_LENGTH bytes; a chunked
    // body is de-chunked and counted first. The connection stays usable.
    Client c(port());
    c.send("POST /cgi-bin/exact.py HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
           "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n");
    Response r = c.next();
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "12 12 0\nhello, world");
    c.send(request("GET", "/cgi-bin/exact.py"));
    r = c.next();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "None 0 0\n");
    // An empty chunked body is a body of length 0.
    r = fetch(port(), "PUT /cgi-bin/exact.py HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                      "Connection: close\r\n\r\n0\r\n\r\n");
    EXPECT_EQ(r.body, "0 0 0\n");
}

TEST_P(CgiModels, InvitesAnExpectContinueBody) {
    Client c(port());
    c.send("POST /cgi-bin/cat.sh HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n"
           "Connection: close\r\n\r\n");
    Response interim = c.next(/*head=*/true);
    ASSERT_EQ(interim.status, 100);
    c.send("ping");
    Response r = c.next();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "ping");
}

TEST_P(CgiModels, FollowsLocalRedirectsAndSendsClientRedirects) {
    Response r = fetch(port(), request("POST", "/cgi-bin/local.sh", "", "ignored=1"));
    ASSERT_EQ(r.status, 200);
    auto env = parse_env(r.body);
    EXPECT_EQ(env["SCRIPT_NAME"], "/cgi-bin/env.sh");
    EXPECT_EQ(env["QUERY_STRING"], "from=local");
    EXPECT_EQ(env["REQUEST_METHOD"], "GET");

    r = fetch(port(), request("GET", "/cgi-bin/client.sh"));
    EXPECT_EQ(r.status, 302);
    EXPECT_EQ(r.header("location"), "http://example.org/next");
}

TEST_P(CgiModels, FailingScriptIs502AndLogged) {
    Response r = fetch(port(), request("GET", "/cgi-bin/fail.sh"));
    EXPECT_EQ(r.status, 502);
    EXPECT_TRUE(host().wait_for_log("cgi: /cgi-bin/fail.sh: something broke"));
    EXPECT_TRUE(host().wait_for_log("cgi: /cgi-bin/fail.sh: no output (exit status 3)"));
    EXPECT_EQ(zombies_after(host().serving_pid()), 0);
}

TEST_P(CgiModels, TimeoutKillsTheScriptAndLeavesNoZombie) {
    const std::string tag = GetParam();
    Response r = fetch(port("quick"), request("GET", "/cgi-bin/slow.sh?" + tag));
    EXPECT_EQ(r.status, 504);
    fs::path pid_file = CgiHosts::dir() / "out" / ("slow." + tag);
    ASSERT_TRUE(fs::exists(pid_file));
    pid_t pid = std::stoi(read_file(pid_file));
    EXPECT_TRUE(process_gone(pid)) << "script pid " << pid << " still exists";
    EXPECT_EQ(zombies_after(host().serving_pid()), 0);
    EXPECT_TRUE(host().wait_for_log("cgi: /cgi-bin/slow.sh: timed out"));
}

TEST_P(CgiModels, AScriptDiesWithItsClient) {
    // The client closes while the script runs: silent, between two writes,
    // or writing all the time. Its process group is killed and reaped at
    // once, long before cgi_timeout (30 s).
    for (const std::string kind : {"quiet", "sleepy", "chatty"}) {
        const std::string tag = GetParam() + "." + kind;
        const fs::path pid_file = CgiHosts::dir() / "out" / ("gone." + tag);
        fs::remove(pid_file);
        Socket s = connect_tcp(port());
        s.send_all(request("GET", "/cgi-bin/gone.sh?" + tag, "", "", false));
        if (kind == "sleepy") {
            EXPECT_NE(s.read_until("started\n").find("started\n"), std::string::npos) << kind;
        } else if (kind == "chatty") {
            EXPECT_GE(s.read_exactly(100000).size(), 100000u) << kind;
        }
        for (int i = 0; i < 1000 && read_file(pid_file).empty(); ++i) std::this_thread::sleep_for(10ms);
        const std::string pid_text = read_file(pid_file);
        ASSERT_FALSE(pid_text.empty()) << kind;
        const pid_t pid = std::stoi(pid_text);
        ASSERT_TRUE(fs::exists("/proc/" + std::to_string(pid))) << kind;
        s.close();
        EXPECT_TRUE(process_gone(pid, 2s)) << kind << ": script pid " << pid << " outlived its client";
    }
    EXPECT_TRUE(host().wait_for_log("cgi: /cgi-bin/gone.sh: client closed the connection"));
    EXPECT_EQ(zombies_after(host().serving_pid()), 0);
}

INSTANTIATE_TEST_SUITE_P(Concurrency, CgiModels, ::testing::Values("sync", "threading", "forking", "event"),
                         [](const auto& info) { return info.param; });

// --- The rest, under threading --------------------------------------------------------

class Cgi : public ::testing::Test {
protected:
    static void SetUpTestSuite() { CgiHosts::set_up(); }
    static void TearDownTestSuite() { CgiHosts::tear_down(); }
    static std::uint16_t port(const std::string& server = "main") { return CgiHosts::port("threading", server); }
    static HostProcess& host() { return CgiHosts::host("threading"); }
};

TEST_F(Cgi, ServesNonCgiPathsLikeHttpStatic) {
    Response r = fetch(port(), request("GET", "/hello.txt"));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "Hello, static!\n");
    EXPECT_FALSE(r.header("etag").empty());
    r = fetch(port(), request("GET", "/cgi-bin/../hello.txt"));
    EXPECT_EQ(r.status, 200);
    r = fetch(port(), request("POST", "/hello.txt", "", "x"));
    EXPECT_EQ(r.status, 501);
}

TEST_F(Cgi, InvalidUrisAre400) {
    for (const char* target : {"/cgi-bin/%zz", "/cgi-bin/../../etc/passwd", "/cgi-bin/%00x", "cgi-bin/env.sh"}) {
        Response r = fetch(port(), request("GET", target));
        EXPECT_EQ(r.status, 400) << target;
    }
}

TEST_F(Cgi, AuthorizationGivesRemoteUserAndAuthType) {
    // "username:pass"
    Response r = fetch(port(), request("GET", "/cgi-bin/env.sh", "Authorization: Basic dXNlcm5hbWU6cGFzcw==\r\n"));
    auto env = parse_env(r.body);
    EXPECT_EQ(env["AUTH_TYPE"], "Basic");
    EXPECT_EQ(env["REMOTE_USER"], "username");
    EXPECT_EQ(env.count("HTTP_AUTHORIZATION"), 0u);
}

TEST_F(Cgi, CgiDirectoryIsJudgedAfterDecodingAndNormalising) {
    for (const char* target : {"/cgi-bin%2fenv.sh", "//cgi-bin/env.sh", "/a/../cgi-bin/env.sh",
                               "/cgi-bin/./env.sh", "/%63gi-bin/env.sh"}) {
        Response r = fetch(port(), request("GET", target));
        ASSERT_EQ(r.status, 200) << target;
        EXPECT_EQ(parse_env(r.body)["SCRIPT_NAME"], "/cgi-bin/env.sh") << target;
    }
}

TEST_F(Cgi, QueryStringsKeepEverythingAfterTheFirstQuestionMark) {
    Response r = fetch(port(), request("GET", "/cgi-bin/query.sh?a=b?c=d"));
    EXPECT_EQ(r.body, "a=b?c=d|0|");
    r = fetch(port(), request("GET", "/cgi-bin/query.sh?k=aa%2F%2Fbb&//q//p//=//a//b//"));
    EXPECT_EQ(r.body, "k=aa%2F%2Fbb&//q//p//=//a//b//|0|");
    // A search query (no '=') is not turned into arguments (RFC 3875 4.4 declined).
    r = fetch(port(), request("GET", "/cgi-bin/query.sh?-s+x"));
    EXPECT_EQ(r.body, "-s+x|0|");
}

TEST_F(Cgi, RepeatedSlashesAndSubDirectories) {
    Response r = fetch(port(), request("GET", "/cgi-bin//sub///deep.sh//a//b"));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "deep /cgi-bin/sub/deep.sh /a/b");
    r = fetch(port(), request("GET", "/cgi-bin/sub/deep.sh/x/"));
    EXPECT_EQ(r.body, "deep /cgi-bin/sub/deep.sh /x/");
    r = fetch(port(), request("GET", "/cgi-bin/query.sh/p%20q?z"));
    EXPECT_EQ(r.body, "z|0|/p q");
}

TEST_F(Cgi, StatusAndOtherFieldsArePassedOn) {
    Response r = fetch(port(), request("GET", "/cgi-bin/status.sh"));
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.header("x-script"), "yes");
    EXPECT_EQ(r.body, "missing");
}

TEST_F(Cgi, LocalRedirectToAFileAndTheRedirectLoopBound) {
    Response r = fetch(port(), request("GET", "/cgi-bin/local_static.sh"));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "Hello, static!\n");
    r = fetch(port(), request("GET", "/cgi-bin/loop.sh"));
    EXPECT_EQ(r.status, 500);
    EXPECT_TRUE(host().wait_for_log("local redirects"));
}

TEST_F(Cgi, MissingNonExecutableAndDirectoryScripts) {
    EXPECT_EQ(fetch(port(), request("GET", "/cgi-bin/nope.sh")).status, 404);
    EXPECT_EQ(fetch(port(), request("GET", "/cgi-bin/noexec.sh")).status, 403);
    EXPECT_EQ(fetch(port(), request("GET", "/cgi-bin/")).status, 403);
    EXPECT_EQ(fetch(port(), request("GET", "/cgi-bin/sub")).status, 403);
    EXPECT_EQ(fetch(port(), request("GET", "/cgi-bin/.hidden")).status, 404);
}

TEST_F(Cgi, InvalidOrMissingHeaderBlockIs502) {
    EXPECT_EQ(fetch(port(), request("GET", "/cgi-bin/garbage.sh")).status, 502);
    EXPECT_EQ(fetch(port(), request("GET", "/cgi-bin/nothing.sh")).status, 502);
    EXPECT_TRUE(host().wait_for_log("cgi: /cgi-bin/garbage.sh: invalid header block"));
}

TEST_F(Cgi, TimeoutAfterTheHeadClosesTheConnection) {
    Client c(port("quick"));
    c.send(request("GET", "/cgi-bin/late.sh?t"));
    Response r = c.next();
    EXPECT_EQ(r.status, 200);
    EXPECT_FALSE(r.complete) << "a truncated chunked body must not look complete";
    pid_t pid = std::stoi(read_file(CgiHosts::dir() / "out" / "late.t"));
    EXPECT_TRUE(process_gone(pid));
}

TEST_F(Cgi, BeyondMaxCgiARequestWaitsForASlotThen503WithRetryAfter) {
    fs::path started = CgiHosts::dir() / "out" / "hold.started";
    fs::remove(started);
    Client first(port("one"));
    // Part of a body too large to be buffered before the script runs (over
    // 64 KiB): the script waits on stdin and holds the only slot.
    first.send("POST /cgi-bin/hold.sh HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\nConnection: close\r\n\r\n12345");
    for (int i = 0; i < 500 && !fs::exists(started); ++i) std::this_thread::sleep_for(10ms);
    ASSERT_TRUE(fs::exists(started));
    // No slot comes within cgi_queue_timeout (1 s): 503, after that wait.
    auto begin = std::chrono::steady_clock::now();
    Response second = fetch(port("one"), request("GET", "/cgi-bin/env.sh"));
    const auto waited = std::chrono::steady_clock::now() - begin;
    EXPECT_EQ(second.status, 503);
    EXPECT_EQ(second.header("retry-after"), "1");
    EXPECT_GE(waited, 900ms) << "answered before cgi_queue_timeout";
    EXPECT_LT(waited, 8s);
    EXPECT_TRUE(host().wait_for_log("cgi: /cgi-bin/env.sh: no free slot"));
    // A slot that frees within the wait is taken: the third request waits,
    // the first finishes, the third runs.
    Client third(port("one"));
    third.send(request("GET", "/cgi-bin/env.sh"));
    std::this_thread::sleep_for(200ms);   // it waits (or, on a slow machine, has not arrived yet)
    first.send(std::string(70000 - 5, 'x'));
    Response r = first.next();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "done\n");
    EXPECT_EQ(third.next().status, 200);
    // The slot is free again.
    EXPECT_EQ(fetch(port("one"), request("GET", "/cgi-bin/env.sh")).status, 200);
}

TEST_F(Cgi, TwentyConcurrentRequestsAllRunWithMaxCgi16) {
    // max_cgi = 16 (the default) and 20 clients at once to a script that
    // sleeps 0.5 s: four wait for a slot (cgi_queue_timeout, 10 s) instead
    // of getting 503. Under threading, and under event with enough threads
    // that the pool is not what bounds the scripts.
    TempDir d;
    const std::string root = (CgiHosts::dir() / "root").string();
    std::string config = host_section();
    for (const auto& [name, model] : std::vector<std::pair<std::string, std::string>>{
             {"threading", "concurrency = \"threading\"\n"}, {"event", "concurrency = \"event\"\nthreads = 24\n"}})
        config += "[[server]]\nname = \"" + name + "\"\nlisten = \"tcp://127.0.0.1:0\"\nplugin = \"cgi\"\n" + model +
                  "  [server.options]\n  directory = \"" + root + "\"\n";
    HostProcess h(d, config);
    for (const std::string name : {"threading", "event"}) {
        const std::uint16_t p = h.port(name);
        std::vector<int> statuses(20, 0);
        std::vector<std::thread> clients;
        for (int i = 0; i < 20; ++i)
            clients.emplace_back([&statuses, i, p] {
                try {
                    statuses[static_cast<std::size_t>(i)] = fetch(p, request("GET", "/cgi-bin/nap.sh")).status;
                } catch (const std::exception&) {
                    statuses[static_cast<std::size_t>(i)] = -1;
                }
            });
        for (std::thread& t : clients) t.join();
        EXPECT_EQ(statuses, std::vector<int>(20, 200)) << name;
    }
    EXPECT_EQ(h.log().find("no free slot"), std::string::npos) << h.log();
}

TEST_F(Cgi, CurlChunkedUploadGetsContentLength) {
    // curl -T - sends stdin as a chunked PUT (with Expect: 100-continue).
    TempDir d;
    const std::string body = pattern(100000);
    const fs::path input = d.write("upload.bin", body);
    const std::string cmd = "curl -sS --max-time 30 -T - http://127.0.0.1:" + std::to_string(port()) +
                            "/cgi-bin/exact.py < " + input.string() + " 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string out;
    char buf[65536];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    EXPECT_EQ(::pclose(p), 0) << out.substr(0, 200);
    EXPECT_TRUE(out == "100000 100000 0\n" + body) << out.substr(0, 200);
}

TEST_F(Cgi, ALargeChunkedBodyIsSpooledToAnUnlinkedFileAndPassedWhole) {
    const fs::path out = CgiHosts::dir() / "out";
    const fs::path spool = fs::canonical(CgiHosts::dir() / "spool");
    fs::remove(out / "exact.ready");
    fs::remove(out / "exact.go");
    const std::string body = pattern(1 << 20);
    Client c(port("spool"));
    c.send("POST /cgi-bin/exact.py?wait HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
           "Connection: close\r\n\r\n" + chunked(body, 70001));
    for (int i = 0; i < 1000 && !fs::exists(out / "exact.ready"); ++i) std::this_thread::sleep_for(10ms);
    ASSERT_TRUE(fs::exists(out / "exact.ready"));
    // The script runs: the body is in a file under body_temp_dir that has
    // no name there, open only in the host.
    EXPECT_TRUE(fs::is_empty(spool));
    EXPECT_TRUE(holds_deleted_file_in(host().serving_pid(), spool));
    std::ofstream(out / "exact.go").close();
    Response r = c.next();
    ASSERT_EQ(r.status, 200);
    EXPECT_TRUE(r.body == "1048576 1048576 0\n" + body) << r.body.substr(0, 100);
    // Closed with the request.
    bool released = false;
    for (int i = 0; i < 200 && !(released = !holds_deleted_file_in(host().serving_pid(), spool)); ++i)
        std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(released);
}

TEST_F(Cgi, AChunkedBodyOverMaxBodySizeIs413) {
    fs::remove(CgiHosts::dir() / "out" / "exact.ready");
    Client c(port("spool"));
    const std::string body = pattern(1100000 + 1);
    try {
        c.send("POST /cgi-bin/exact.py?wait HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
               chunked(body, 65536));
    } catch (const std::exception&) {
        // The host may close before it has read everything sent.
    }
    Response r = c.next();
    EXPECT_EQ(r.status, 413);
    EXPECT_FALSE(fs::exists(CgiHosts::dir() / "out" / "exact.ready")) << "the script ran";
    EXPECT_TRUE(fs::is_empty(CgiHosts::dir() / "spool"));
}

TEST_F(Cgi, LargeBodiesStreamBothWaysWithoutDeadlock) {
    std::string body(2 << 20, '\0');
    for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 23);
    Response r = fetch(port(), request("POST", "/cgi-bin/cat.sh", "", body));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("transfer-encoding"), "chunked");
    EXPECT_EQ(r.body.size(), body.size());
    EXPECT_TRUE(r.body == body);
    // A script that never reads stdin while it writes a lot.
    r = fetch(port(), request("POST", "/cgi-bin/nostdin.sh", "", body));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body, std::string(300000, 'y'));
}

TEST_F(Cgi, KeepAliveChunkedAndContentLengthResponses) {
    Client c(port());
    c.send(request("GET", "/cgi-bin/big.sh", "", "", false) + request("GET", "/cgi-bin/length.sh", "", "", false) +
           request("HEAD", "/cgi-bin/big.sh", "", "", true));
    Response a = c.next();
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.body, std::string(300000, 'x'));
    Response b = c.next();
    EXPECT_EQ(b.header("content-length"), "5");
    EXPECT_EQ(b.body, "hello");
    Response h = c.next(/*head=*/true);
    EXPECT_EQ(h.status, 200);
    EXPECT_TRUE(c.peer_closed());
}

TEST_F(Cgi, Http10ResponsesEndAtClose) {
    Client c(port());
    c.send("GET /cgi-bin/big.sh HTTP/1.0\r\n\r\n");
    Response r = c.next();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("transfer-encoding"), "");
    EXPECT_EQ(r.header("connection"), "close");
    EXPECT_EQ(r.body, std::string(300000, 'x'));
}

TEST_F(Cgi, StderrGoesToTheLogWithTheScriptName) {
    Response r = fetch(port(), request("GET", "/cgi-bin/stderr.sh"));
    EXPECT_EQ(r.body, "ok\n");
    EXPECT_TRUE(host().wait_for_log("cgi: /cgi-bin/stderr.sh: line one"));
    EXPECT_TRUE(host().wait_for_log("cgi: /cgi-bin/stderr.sh: line two"));
}

TEST_F(Cgi, RunsLeaveNoDescriptorOrZombieBehind) {
    const pid_t pid = host().serving_pid();
    ASSERT_EQ(fetch(port(), request("GET", "/cgi-bin/env.sh")).status, 200);   // warm-up
    // Waits (bounded) for the count to come down to `want`: connections
    // close on the host's side a moment after the client's.
    auto settled_fds = [pid](int want) {
        int n = count_open_fds(pid);
        for (int i = 0; i < 200 && n > want; ++i) {
            std::this_thread::sleep_for(10ms);
            n = count_open_fds(pid);
        }
        return n;
    };
    const int baseline = count_open_fds(pid);
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(fetch(port(), request("POST", "/cgi-bin/cat.sh", "", "abc")).status, 200);
        EXPECT_EQ(fetch(port(), request("GET", "/cgi-bin/fail.sh")).status, 502);
        EXPECT_EQ(fetch(port(), request("GET", "/cgi-bin/noexec.sh")).status, 403);
        EXPECT_EQ(fetch(port(), request("GET", "/cgi-bin/local.sh")).status, 200);
    }
    EXPECT_LE(settled_fds(baseline), baseline);
    EXPECT_EQ(zombies_after(pid), 0);
    EXPECT_EQ(count_children(pid), 0);
}

TEST_F(Cgi, UnknownOptionIsRefusedAtStartUp) {
    TempDir d;
    RunResult r = run_sockhost({"--check", "--config",
                                d.write("servers.toml", host_section() +
                                                            "[[server]]\nname = \"c\"\nlisten = \"tcp://127.0.0.1:0\"\n"
                                                            "plugin = \"cgi\"\n  [server.options]\n  cgi_timout = 3\n")
                                    .string()});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE((r.out + r.err).find("cgi_timout"), std::string::npos) << r.out << r.err;
}

}  // namespace
}  // namespace sockhost::testing
