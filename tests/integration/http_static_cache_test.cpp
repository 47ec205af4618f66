// SPDX-License-Identifier: MIT
// http_static's open-file cache against the real sockhost binary: changes,
// deletions and symlink swaps show once open_file_cache_valid has passed (at
// once with the cache off), bodies stay byte-exact over keep-alive, Range and
// 304 work on cached entries, bad values stop the start-up. Raw HTTP on real
// sockets, the servers.toml written inline, under several concurrency models.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/host_process.hpp"
#include "support/http_client.hpp"

namespace sockhost::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kSecret = "TOPSECRET-beside-the-cached-docroot";

std::string get_request(std::string_view target, std::string_view extra = {}) {
    return "GET " + std::string(target) + " HTTP/1.1\r\nHost: localhost\r\n" + std::string(extra) + "\r\n";
}

/// `n` bytes that differ from position to position (and from `seed` to seed).
std::string pattern(std::size_t n, int seed) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('!' + (i * 31 + i / 253 + static_cast<std::size_t>(seed)) % 90);
    return s;
}

/// Writes `content` to a temporary name beside `path` and renames it over
/// `path`: the way deployment tools replace a file (a new inode).
void replace_file(const fs::path& path, std::string_view content) {
    fs::path tmp = path;
    tmp += ".tmp";
    std::ofstream(tmp, std::ios::binary | std::ios::trunc) << content;
    fs::rename(tmp, path);
}

/// A docroot with a secret beside it and one http_static server over it.
class CacheHost : public ::testing::TestWithParam<std::string> {
protected:
    /// Starts the host with `options` added to [server.options].
    void start(const std::string& options) {
        dir_.write("secret", kSecret);
        std::string config = host_section() +
                             "[[server]]\nname = \"static\"\nlisten = \"tcp://127.0.0.1:0\"\n"
                             "plugin = \"http_static\"\nconcurrency = \"" + GetParam() + "\"\n"
                             "  [server.options]\n  directory = \"" + root().string() + "\"\n" + options;
        host_ = std::make_unique<HostProcess>(dir_, config);
        port_ = host_->port("static");
    }
    fs::path root() const { return dir_ / "root"; }
    fs::path write(const std::string& name, std::string_view content) const {
        return dir_.write("root/" + name, content);
    }

    /// GETs `target` on `c` until `done` holds for the response or `timeout`
    /// passes (polling every 20 ms); returns the last response.
    static Response poll(Client& c, const std::string& target, const std::function<bool(const Response&)>& done,
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
        const auto deadline = Clock::now() + timeout;
        for (;;) {
            c.send(get_request(target));
            Response r = c.next();
            if (done(r) || r.status == 0 || Clock::now() >= deadline) return r;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }

    TempDir dir_;
    std::unique_ptr<HostProcess> host_;
    std::uint16_t port_ = 0;
};

/// The cache's validity in these tests, and how long a change may take to
/// show (validity plus a loaded machine's scheduling slack).
constexpr std::string_view kShortValidity = "  open_file_cache_valid = 0.2\n";
constexpr auto kShowsWithin = std::chrono::milliseconds(3000);

TEST_P(CacheHost, ChangedFileIsServedFreshOnceTheValidityHasPassed) {
    write("doc.txt", "version one\n");
    replace_file(write("big.bin", "x"), pattern(200 * 1024, 1));
    start(std::string(kShortValidity));
    Client c(port_);
    for (const char* target : {"/doc.txt", "/big.bin"}) {   // cache both
        c.send(get_request(target));
        ASSERT_EQ(c.next().status, 200) << target;
    }

    // In place, longer and different (an inline entry: same inode, new size).
    const std::string v2 = "version two is longer than one\n";
    write("doc.txt", v2);
    auto changed = Clock::now();
    Response r = poll(c, "/doc.txt", [&](const Response& x) { return x.body == v2; });
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, v2);
    EXPECT_EQ(r.header("content-length"), std::to_string(v2.size()));
    EXPECT_LT(Clock::now() - changed, kShowsWithin);

    // Replaced by rename, shorter (an fd entry: a new inode).
    const std::string big2 = pattern(150 * 1024 + 7, 2);
    replace_file(root() / "big.bin", big2);
    changed = Clock::now();
    r = poll(c, "/big.bin", [&](const Response& x) { return x.body.size() == big2.size(); });
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.body == big2);
    EXPECT_LT(Clock::now() - changed, kShowsWithin);
}

TEST_P(CacheHost, DeletedFileIs404OnceTheValidityHasPassed) {
    write("gone.txt", "here for now");
    start(std::string(kShortValidity));
    Client c(port_);
    c.send(get_request("/gone.txt"));
    ASSERT_EQ(c.next().status, 200);
    fs::remove(root() / "gone.txt");
    const auto removed = Clock::now();
    Response r = poll(c, "/gone.txt", [](const Response& x) { return x.status != 200; });
    EXPECT_EQ(r.status, 404);
    EXPECT_LT(Clock::now() - removed, kShowsWithin);
    // Errors are not cached: the file is back at once.
    write("gone.txt", "back again");
    c.send(get_request("/gone.txt"));
    Response back = c.next();
    EXPECT_EQ(back.status, 200);
    EXPECT_EQ(back.body, "back again");
}

TEST_P(CacheHost, FileSwappedForASymlinkOutsideIsRefusedOnceTheValidityHasPassed) {
    write("swap.txt", "innocent");
    write("sub/index.html", "<h1>index</h1>");
    start(std::string(kShortValidity));
    Client c(port_);
    for (const char* target : {"/swap.txt", "/sub/"}) {
        c.send(get_request(target));
        ASSERT_EQ(c.next().status, 200) << target;
    }
    fs::remove(root() / "swap.txt");
    fs::create_symlink(dir_ / "secret", root() / "swap.txt");
    fs::remove(root() / "sub" / "index.html");
    fs::create_symlink(dir_ / "secret", root() / "sub" / "index.html");
    const auto swapped = Clock::now();
    Response r = poll(c, "/swap.txt", [](const Response& x) { return x.status != 200; });
    EXPECT_EQ(r.status, 403);   // as without a cache: the realpath leaves the root
    EXPECT_EQ(r.body.find(kSecret), std::string::npos);
    EXPECT_LT(Clock::now() - swapped, kShowsWithin);
    // The index symlink is refused as an index: the directory is listed.
    Response idx = poll(c, "/sub/", [](const Response& x) { return x.body.find("<h1>index</h1>") == std::string::npos; });
    EXPECT_EQ(idx.status, 200);
    EXPECT_EQ(idx.body.find(kSecret), std::string::npos);
    EXPECT_NE(idx.body.find("index.html@"), std::string::npos) << idx.body;
    // Whatever the timing, the secret was never what came back.
    for (int i = 0; i < 5; ++i) {
        c.send(get_request("/swap.txt"));
        Response again = c.next();
        EXPECT_EQ(again.status, 403);
        EXPECT_EQ(again.body.find(kSecret), std::string::npos);
    }
}

TEST_P(CacheHost, WithinTheValidityTheCachedVersionIsServed) {
    // The documented trade-off: a long validity serves the old file.
    write("doc.txt", "old");
    start("  open_file_cache_valid = 60\n");
    Client c(port_);
    c.send(get_request("/doc.txt"));
    ASSERT_EQ(c.next().body, "old");
    write("doc.txt", "new and longer");
    c.send(get_request("/doc.txt"));
    Response r = c.next();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "old");
    EXPECT_EQ(r.header("content-length"), "3");
}

TEST_P(CacheHost, WithTheCacheOffAChangeShowsAtOnce) {
    write("doc.txt", "old");
    start("  open_file_cache = 0\n");
    Client c(port_);
    c.send(get_request("/doc.txt"));
    ASSERT_EQ(c.next().body, "old");
    write("doc.txt", "new and longer");
    c.send(get_request("/doc.txt"));
    EXPECT_EQ(c.next().body, "new and longer");
    fs::remove(root() / "doc.txt");
    c.send(get_request("/doc.txt"));
    EXPECT_EQ(c.next().status, 404);
}

TEST_P(CacheHost, BodiesAreByteExactOverManyKeepAliveRequests) {
    const std::string small = pattern(1024, 3), big = pattern(200 * 1024, 4), edge = pattern(16384, 5);
    write("small.bin", small);
    write("big.bin", big);
    write("edge.bin", edge);   // exactly open_file_cache_inline
    start("");
    Client c(port_);
    for (int i = 0; i < 60; ++i) {
        const std::string* want = i % 3 == 0 ? &small : i % 3 == 1 ? &big : &edge;
        const char* target = i % 3 == 0 ? "/small.bin" : i % 3 == 1 ? "/big.bin" : "/edge.bin";
        c.send(get_request(target));
        Response r = c.next();
        ASSERT_EQ(r.status, 200) << i;
        ASSERT_EQ(r.body.size(), want->size()) << i;
        ASSERT_TRUE(r.body == *want) << i;
    }
    // Pipelined: several cached responses back to back in one read.
    std::string burst;
    for (int i = 0; i < 10; ++i) burst += get_request(i % 2 ? "/small.bin" : "/big.bin");
    c.send(burst);
    for (int i = 0; i < 10; ++i) {
        Response r = c.next();
        ASSERT_EQ(r.status, 200) << i;
        EXPECT_TRUE(r.body == (i % 2 ? small : big)) << i;
    }
    EXPECT_TRUE(host_->running());
}

TEST_P(CacheHost, RangesAndValidatorsWorkOnCachedEntries) {
    const std::string small = pattern(1000, 6), big = pattern(200 * 1024, 7);
    write("small.bin", small);
    write("big.bin", big);
    start("");
    Client c(port_);
    for (const auto& [target, body] : {std::pair{"/small.bin", &small}, std::pair{"/big.bin", &big}}) {
        const std::string t = target;
        const std::string size = std::to_string(body->size());
        c.send(get_request(t));   // warm: the rest is answered from the cache
        Response full = c.next();
        ASSERT_EQ(full.status, 200) << t;
        const std::string etag = full.header("etag");
        ASSERT_FALSE(etag.empty());

        c.send(get_request(t, "Range: bytes=100-299\r\n"));
        Response part = c.next();
        EXPECT_EQ(part.status, 206) << t;
        EXPECT_EQ(part.body, body->substr(100, 200)) << t;
        EXPECT_EQ(part.header("content-range"), "bytes 100-299/" + size);

        c.send(get_request(t, "Range: bytes=-10\r\n"));
        Response tail = c.next();
        EXPECT_EQ(tail.status, 206) << t;
        EXPECT_EQ(tail.body, body->substr(body->size() - 10)) << t;

        c.send(get_request(t, "Range: bytes=0-4,900-909\r\n"));
        Response multi = c.next();
        EXPECT_EQ(multi.status, 206) << t;
        EXPECT_TRUE(multi.header("content-type").starts_with("multipart/byteranges; boundary=")) << t;
        EXPECT_NE(multi.body.find("Content-Range: bytes 0-4/" + size + "\r\n\r\n" + body->substr(0, 5) + "\r\n"),
                  std::string::npos) << t;
        EXPECT_NE(multi.body.find("Content-Range: bytes 900-909/" + size + "\r\n\r\n" + body->substr(900, 10) + "\r\n"),
                  std::string::npos) << t;

        c.send(get_request(t, "Range: bytes=9999999-\r\n"));
        Response unsat = c.next();
        EXPECT_EQ(unsat.status, 416) << t;
        EXPECT_EQ(unsat.header("content-range"), "bytes */" + size);

        c.send(get_request(t, "Range: bytes=0-9\r\nIf-Range: \"not-it\"\r\n"));
        Response whole = c.next();
        EXPECT_EQ(whole.status, 200) << t;
        EXPECT_TRUE(whole.body == *body) << t;

        c.send(get_request(t, "Range: bytes=0-9\r\nIf-Range: " + etag + "\r\n"));
        EXPECT_EQ(c.next().body, body->substr(0, 10)) << t;

        c.send(get_request(t, "If-None-Match: " + etag + "\r\n"));
        Response inm = c.next();
        EXPECT_EQ(inm.status, 304) << t;
        EXPECT_EQ(inm.header("etag"), etag);
        EXPECT_EQ(inm.header("last-modified"), full.header("last-modified"));

        c.send(get_request(t, "If-Modified-Since: " + full.header("last-modified") + "\r\n"));
        EXPECT_EQ(c.next().status, 304) << t;

        c.send(get_request(t, "If-Match: \"other\"\r\n"));
        EXPECT_EQ(c.next().status, 412) << t;

        c.send("HEAD " + t + " HTTP/1.1\r\nHost: x\r\n\r\n");
        Response head = c.next(/*head=*/true);
        EXPECT_EQ(head.status, 200) << t;
        EXPECT_EQ(head.header("content-length"), size);

        c.send(get_request(t + "/"));
        EXPECT_EQ(c.next().status, 404) << t;   // a file has no trailing slash
    }
    // The connection is still in step after all of it.
    c.send(get_request("/small.bin"));
    EXPECT_TRUE(c.next().body == small);
}

TEST_P(CacheHost, ConcurrentClientsSeeWholeVersionsWhileFilesAreReplaced) {
    // A validity of 1 ms: entries are revalidated and replaced all the time
    // while other connections are served from them. Every response must be
    // one whole version of its file, never a mix or a wrong length.
    const std::vector<std::string> small = {pattern(1000, 8), pattern(1500, 9)};
    const std::vector<std::string> big = {pattern(100 * 1024, 10), pattern(120 * 1024 + 3, 11)};
    write("small.bin", small[0]);
    write("big.bin", big[0]);
    start("  open_file_cache_valid = 0.001\n");
    std::atomic<bool> stop{false};
    std::atomic<int> served{0}, bad{0}, seen{0};   // seen: bit 1 << version
    std::vector<std::thread> clients;
    for (int t = 0; t < 4; ++t) {
        clients.emplace_back([&, t] {
            auto c = std::make_unique<Client>(port_);
            // 5000 requests, and on until both versions were seen (a replacer
            // starved by a loaded machine may not have replaced anything yet).
            for (int i = 0; (i < 5000 || seen != 3) && !stop; ++i) {
                const bool is_big = (i + t) % 2 == 1;
                c->send(get_request(is_big ? "/big.bin" : "/small.bin"));
                Response r = c->next();
                const auto& versions = is_big ? big : small;
                const int v = r.body == versions[0] ? 0 : r.body == versions[1] ? 1 : -1;
                if (r.status != 200 || v < 0) {
                    ++bad;
                    return;
                }
                // max_keepalive_requests (1000) ends a connection: a new one.
                if (r.header("connection") == "close") c = std::make_unique<Client>(port_);
                seen |= 1 << v;
                ++served;
            }
        });
    }
    // Replace both files by turns until the clients have done plenty (bounded).
    const auto deadline = Clock::now() + std::chrono::milliseconds(5000);
    for (std::size_t n = 1; (served < 400 || n < 20 || seen != 3) && bad == 0 && Clock::now() < deadline; ++n) {
        replace_file(root() / "small.bin", small[n % 2]);
        replace_file(root() / "big.bin", big[n % 2]);
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    stop = true;
    for (std::thread& th : clients) th.join();
    EXPECT_EQ(bad.load(), 0);
    EXPECT_GE(served.load(), 400);
    EXPECT_EQ(seen.load(), 3);   // both versions went out
    EXPECT_TRUE(host_->running());
}

INSTANTIATE_TEST_SUITE_P(Concurrency, CacheHost, ::testing::Values("sync", "threading", "forking", "event"),
                         [](const auto& info) { return info.param; });

TEST(HttpStaticCacheConfig, BadValuesAreConfigErrorsWithTheirLine) {
    const std::vector<std::string> bad = {
        "open_file_cache = -1",          "open_file_cache = 100001",      "open_file_cache = \"yes\"",
        "open_file_cache_valid = 0",     "open_file_cache_valid = -0.5",  "open_file_cache_valid = 3601",
        "open_file_cache_valid = true",  "open_file_cache_inline = -1",   "open_file_cache_inline = 1048577",
        "open_file_cache_inline = 1.5",
    };
    for (const std::string& line : bad) {
        TempDir dir;
        fs::create_directories(dir / "root");
        std::string config = host_section() +
                             "[[server]]\nname = \"static\"\nlisten = \"tcp://127.0.0.1:0\"\n"
                             "plugin = \"http_static\"\n  [server.options]\n  directory = \"" +
                             (dir / "root").string() + "\"\n  " + line + "\n";
        dir.write("servers.toml", config);
        RunResult r = run_sockhost({"--config", (dir / "servers.toml").string(), "--check"});
        const std::string key = line.substr(0, line.find(' '));
        // The option is the file's last line.
        const auto line_no = std::count(config.begin(), config.end(), '\n');
        const std::string where = "servers.toml:" + std::to_string(line_no) + ":";
        EXPECT_NE(r.exit_code, 0) << line;
        EXPECT_NE((r.out + r.err).find(where), std::string::npos) << where << " " << line << "\n" << r.out << r.err;
        EXPECT_NE((r.out + r.err).find(key), std::string::npos) << line << "\n" << r.out << r.err;
    }
    // Good values pass the check.
    TempDir dir;
    fs::create_directories(dir / "root");
    dir.write("servers.toml", host_section() +
                                  "[[server]]\nname = \"static\"\nlisten = \"tcp://127.0.0.1:0\"\n"
                                  "plugin = \"http_static\"\n  [server.options]\n  directory = \"" +
                                  (dir / "root").string() +
                                  "\"\n  open_file_cache = 0\n  open_file_cache_valid = 0.5\n"
                                  "  open_file_cache_inline = 0\n");
    RunResult ok = run_sockhost({"--config", (dir / "servers.toml").string(), "--check"});
    EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
}

}  // namespace
}  // namespace sockhost::testing
