// SPDX-License-Identifier: MIT
// http_static against the real sockhost binary: containment, keep-alive and
// pipelining, 206/304/416, large files, every concurrency model; raw bytes
// on real sockets, the servers.toml written inline.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/host_process.hpp"
#include "support/http_client.hpp"

namespace sockhost::testing {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kSecret = "TOPSECRET-beside-the-docroot";

std::string get_request(std::string_view target, std::string_view extra = {}, bool close = false) {
    return "GET " + std::string(target) + " HTTP/1.1\r\nHost: localhost\r\n" + std::string(extra) +
           (close ? "Connection: close\r\n" : "") + "\r\n";
}

/// A docroot with a secret beside it, and one sockhost serving it twice:
/// "static" (defaults) and "follow" (follow_symlinks = true).
class HttpStaticHost : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = std::make_unique<TempDir>();
        const TempDir& d = *dir_;
        d.write("secret", kSecret);
        d.write("root/hello.txt", "Hello, world!\n");
        d.write("root/digits.bin", "0123456789");
        d.write("root/site/index.html", "<h1>site</h1>");
        d.write("root/sub/a.txt", "a");
        d.write("root/.env", "DOTFILE");
        std::string big(1 << 20, '\0');
        for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + (i * 7 + i / 1000) % 26);
        d.write("root/big.bin", big);
        big_ = new std::string(std::move(big));
        fs::create_symlink(d / "secret", d / "root" / "outlink");
        fs::create_symlink(d.path(), d / "root" / "outdir");
        std::string root = (d / "root").string();
        std::string config = host_section() +
                             "[[server]]\nname = \"static\"\nlisten = \"tcp://127.0.0.1:0\"\n"
                             "plugin = \"http_static\"\nconcurrency = \"threading\"\n"
                             "  [server.options]\n  directory = \"" + root + "\"\n"
                             "  cache_control = \"max-age=60\"\n"
                             "[[server]]\nname = \"follow\"\nlisten = \"tcp://127.0.0.1:0\"\n"
                             "plugin = \"http_static\"\nconcurrency = \"threading\"\n"
                             "  [server.options]\n  directory = \"" + root + "\"\n"
                             "  follow_symlinks = true\n";
        host_ = std::make_unique<HostProcess>(d, config);
        port_ = host_->port("static");
        follow_port_ = host_->port("follow");
    }
    static void TearDownTestSuite() {
        host_.reset();
        dir_.reset();
        delete big_;
        big_ = nullptr;
    }

    static inline std::unique_ptr<TempDir> dir_;
    static inline std::unique_ptr<HostProcess> host_;
    static inline std::uint16_t port_ = 0;
    static inline std::uint16_t follow_port_ = 0;
    static inline std::string* big_ = nullptr;
};

TEST_F(HttpStaticHost, NoTraversalAttemptReachesTheSecret) {
    const std::vector<std::string> attempts = {
        "/../secret",      "/%2e%2e/secret",     "/..%2fsecret",       "/%2e%2e%2fsecret",
        "/a/../../secret", "/sub/../../secret",  "//etc/passwd",       "/..\\secret",
        "/%00",            "/secret%00",         "/etc/passwd",        "/.%2e/secret",
        "/outlink",        "/outdir/secret",     "//../secret",        "/%5c..%5csecret",
        "http://localhost/../secret",            "/" + (dir_->path() / "secret").string(),
    };
    for (const std::string& target : attempts) {
        Client c(port_);
        c.send(get_request(target, {}, true));
        std::string raw = c.rest();
        EXPECT_EQ(raw.find(kSecret), std::string::npos) << target;
        ASSERT_GE(raw.size(), 12u) << target;
        int status = std::stoi(raw.substr(9, 3));
        EXPECT_TRUE(status == 400 || status == 403 || status == 404) << target << " -> " << status;
    }
    EXPECT_TRUE(host_->running());
}

TEST_F(HttpStaticHost, SymlinkOutsideIsServedOnlyWhenFollowing) {
    Client refused(port_);
    refused.send(get_request("/outlink"));
    EXPECT_EQ(refused.next().status, 403);
    Client allowed(follow_port_);
    allowed.send(get_request("/outlink"));
    Response r = allowed.next();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, kSecret);
    allowed.send(get_request("/../secret"));
    EXPECT_EQ(allowed.next().status, 400);
}

TEST_F(HttpStaticHost, KeepAliveServesManyRequestsOnOneConnection) {
    Client c(port_);
    for (int i = 0; i < 5; ++i) {
        c.send(get_request("/hello.txt"));
        Response r = c.next();
        ASSERT_EQ(r.status, 200) << i;
        EXPECT_EQ(r.body, "Hello, world!\n");
    }
    c.send("HEAD /digits.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    Response h = c.next(/*head=*/true);
    EXPECT_EQ(h.status, 200);
    EXPECT_EQ(h.header("content-length"), "10");
    // The HEAD sent no body: the next response starts right away.
    c.send(get_request("/digits.bin", {}, true));
    Response last = c.next();
    EXPECT_EQ(last.status, 200);
    EXPECT_EQ(last.body, "0123456789");
    EXPECT_TRUE(c.peer_closed());
}

TEST_F(HttpStaticHost, PipelinedRequestsAreAnsweredInOrder) {
    Client c(port_);
    c.send(get_request("/hello.txt") + get_request("/digits.bin", "Range: bytes=-3\r\n") +
           get_request("/nope") + get_request("/sub") + get_request("/site/", {}, true));
    Response a = c.next(), b = c.next(), n = c.next(), s = c.next(), i = c.next();
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.body, "Hello, world!\n");
    EXPECT_EQ(b.status, 206);
    EXPECT_EQ(b.body, "789");
    EXPECT_EQ(n.status, 404);
    EXPECT_EQ(s.status, 301);
    EXPECT_EQ(s.header("location"), "/sub/");
    EXPECT_EQ(i.status, 200);
    EXPECT_EQ(i.body, "<h1>site</h1>");
    EXPECT_TRUE(c.peer_closed());
}

TEST_F(HttpStaticHost, RangesGive206And416) {
    Client c(port_);
    c.send(get_request("/digits.bin", "Range: bytes=2-4\r\n"));
    Response r = c.next();
    EXPECT_EQ(r.status, 206);
    EXPECT_EQ(r.body, "234");
    EXPECT_EQ(r.header("content-range"), "bytes 2-4/10");
    c.send(get_request("/digits.bin", "Range: bytes=50-\r\n"));
    Response u = c.next();
    EXPECT_EQ(u.status, 416);
    EXPECT_EQ(u.header("content-range"), "bytes */10");
    c.send(get_request("/digits.bin", "Range: bytes=0-0,9-9\r\n"));
    Response m = c.next();
    EXPECT_EQ(m.status, 206);
    EXPECT_TRUE(m.header("content-type").starts_with("multipart/byteranges; boundary="));
    EXPECT_NE(m.body.find("Content-Range: bytes 9-9/10\r\n\r\n9\r\n"), std::string::npos);
    // The connection is still usable after all three.
    c.send(get_request("/hello.txt"));
    EXPECT_EQ(c.next().status, 200);
}

TEST_F(HttpStaticHost, ValidatorsGive304) {
    Client c(port_);
    c.send(get_request("/hello.txt"));
    Response first = c.next();
    ASSERT_EQ(first.status, 200);
    EXPECT_EQ(first.header("cache-control"), "max-age=60");
    c.send(get_request("/hello.txt", "If-None-Match: " + first.header("etag") + "\r\n"));
    Response inm = c.next();
    EXPECT_EQ(inm.status, 304);
    EXPECT_EQ(inm.header("etag"), first.header("etag"));
    EXPECT_EQ(inm.header("cache-control"), "max-age=60");
    c.send(get_request("/hello.txt", "If-Modified-Since: " + first.header("last-modified") + "\r\n"));
    EXPECT_EQ(c.next().status, 304);
    c.send(get_request("/hello.txt", "If-None-Match: \"stale\"\r\n"));
    Response full = c.next();
    EXPECT_EQ(full.status, 200);
    EXPECT_EQ(full.body, "Hello, world!\n");
}

TEST_F(HttpStaticHost, LargeFileArrivesWholeAndInRanges) {
    Client c(port_);
    c.send(get_request("/big.bin"));
    Response r = c.next();
    EXPECT_EQ(r.status, 200);
    ASSERT_EQ(r.body.size(), big_->size());
    EXPECT_TRUE(r.body == *big_);
    c.send(get_request("/big.bin", "Range: bytes=500000-500099\r\n"));
    Response part = c.next();
    EXPECT_EQ(part.status, 206);
    EXPECT_EQ(part.body, big_->substr(500000, 100));
}

TEST_F(HttpStaticHost, ALastAnswersFileEndsInTheSegmentThatCarriesTheFin) {
    // A file sent on a connection that closes after it goes out corked, so
    // the close adds the FIN to the file's last segment: the client gets no
    // segment without data but the SYN-ACK and the ACK of its request. A
    // FIN of its own would be a third.
    // 64 KiB (a range of big.bin): its last segment would leave at once
    // without the cork, before the close.
    const std::string part = big_->substr(0, 65536);
    for (int i = 0; i < 3; ++i) {
        Socket s = connect_tcp(port_);
        s.send_all(get_request("/big.bin", "Range: bytes=0-65535\r\n", true));
        std::string all = s.read_all(10s);
        ASSERT_GT(all.size(), part.size());
        EXPECT_EQ(all.substr(0, 12), "HTTP/1.1 206");
        EXPECT_EQ(all.compare(all.size() - part.size(), part.size(), part), 0);
        const auto segs = segments_received(s);
        if (!segs) GTEST_SKIP() << "no tcpi_data_segs_in in TCP_INFO";
        EXPECT_LE(segs->all - segs->with_data, 2) << "round " << i;
    }
}

TEST_F(HttpStaticHost, DotfilesAndOtherMethods) {
    Client c(port_);
    c.send(get_request("/.env"));
    EXPECT_EQ(c.next().status, 404);
    c.send("DELETE /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(c.next().status, 501);
}

/// The same plugin under every concurrency model.
class HttpStaticModels : public ::testing::TestWithParam<std::string> {};

TEST_P(HttpStaticModels, ServesFilesAndListings) {
    TempDir dir;
    dir.write("root/hello.txt", "hi\n");
    dir.write("root/d/x.txt", "x");
    std::string config = host_section() + "[[server]]\nname = \"static\"\nlisten = \"tcp://127.0.0.1:0\"\n"
                                          "plugin = \"http_static\"\nconcurrency = \"" + GetParam() +
                         "\"\n  [server.options]\n  directory = \"" + (dir / "root").string() + "\"\n";
    HostProcess host(dir, config);
    std::uint16_t port = host.port("static");
    for (int i = 0; i < 3; ++i) {
        Client c(port);
        c.send(get_request("/hello.txt") + get_request("/d/", {}, true));
        Response f = c.next(), l = c.next();
        EXPECT_EQ(f.status, 200);
        EXPECT_EQ(f.body, "hi\n");
        EXPECT_EQ(l.status, 200);
        EXPECT_NE(l.body.find("<a href=\"x.txt\">x.txt</a>"), std::string::npos);
    }
    EXPECT_EQ(host.stop(), 0);
}

INSTANTIATE_TEST_SUITE_P(Concurrency, HttpStaticModels,
                         ::testing::Values("sync", "threading", "forking", "event"),
                         [](const auto& info) { return info.param; });

TEST(HttpStaticConfig, BadDirectoryIsReportedBeforeBinding) {
    TempDir dir;
    std::string config = host_section() +
                         "[[server]]\nname = \"static\"\nlisten = \"tcp://127.0.0.1:0\"\n"
                         "plugin = \"http_static\"\n  [server.options]\n  directory = \"/nonexistent/www\"\n";
    dir.write("servers.toml", config);
    RunResult r = run_sockhost({"--config", (dir / "servers.toml").string(), "--check"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE((r.out + r.err).find("directory"), std::string::npos) << r.out << r.err;
}

}  // namespace
}  // namespace sockhost::testing
