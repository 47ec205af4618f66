// SPDX-License-Identifier: MIT
// http_static's open-file cache: FileCache on its own with a fake clock
// (hits, revalidation, replacement, eviction, inline bodies, fd lifetime),
// then the handler with and without the cache giving the same responses.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <sockhost/sdk.hpp>
#include <sockhost/sdk/http/date.hpp>
#include <sockhost/sdk/http/etag.hpp>
#include <sockhost/sdk/testkit.hpp>

#include "files/config.hpp"
#include "files/file_cache.hpp"
#include "files/open_file.hpp"
#include "http_static/http_static.hpp"
#include "option_error.hpp"

namespace hs = sockhost::plugins::http_static;
namespace files = sockhost::plugins::files;
namespace sdk = sockhost::sdk;
namespace testkit = sockhost::sdk::testkit;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// The clock every FileCache in this file reads: tests move it by hand.
files::FileCache::Clock::time_point fake_time{std::chrono::hours(1)};
files::FileCache::Clock::time_point fake_now() { return fake_time; }

/// True while `fd` is an open descriptor of this process.
bool fd_is_open(int fd) { return fd >= 0 && ::fcntl(fd, F_GETFD) != -1; }

class FileCacheTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/sockhost-fcache-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        fake_time = files::FileCache::Clock::time_point{std::chrono::hours(1)};
    }
    void TearDown() override { fs::remove_all(dir_); }

    fs::path write(const std::string& name, std::string_view content) const {
        fs::path p = dir_ / name;
        fs::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
        return p;
    }

    files::FileCache make(std::size_t max_entries = 16, std::size_t inline_max = 16384) {
        return files::FileCache({.max_entries = max_entries, .valid = 1.0, .inline_max = inline_max, .etag = true},
                             &fake_now);
    }

    /// One open through `cache`, counting the real opens in opens_.
    int open(files::FileCache& cache, const fs::path& p, std::shared_ptr<const files::CachedFile>& out,
             files::OpenFile* file_out = nullptr) {
        files::OpenFile file;
        int err = cache.open(
            p.native(), p.filename().native(),
            [&](files::OpenFile& f) {
                ++opens_;
                return f.open(p, nullptr);
            },
            file, out);
        if (file_out != nullptr) *file_out = std::move(file);
        return err;
    }
    std::shared_ptr<const files::CachedFile> get(files::FileCache& cache, const fs::path& p) {
        std::shared_ptr<const files::CachedFile> out;
        EXPECT_EQ(open(cache, p, out), 0) << p;
        EXPECT_NE(out, nullptr) << p;
        return out;
    }

    fs::path dir_;
    int opens_ = 0;
};

TEST_F(FileCacheTest, AFreshEntryIsServedWithoutOpeningTheFileAgain) {
    files::FileCache cache = make();
    fs::path p = write("hello.txt", "Hello, cache!\n");
    auto first = get(cache, p);
    EXPECT_EQ(opens_, 1);
    fake_time += 900ms;
    auto second = get(cache, p);
    EXPECT_EQ(opens_, 1);
    EXPECT_EQ(first, second);
    EXPECT_EQ(*second->body, "Hello, cache!\n");
    EXPECT_EQ(cache.size(), 1u);
}

TEST_F(FileCacheTest, EntryCarriesTheResponseFieldsOfItsFile) {
    files::FileCache cache = make();
    fs::path p = write("page.html", "<p>x</p>");
    auto f = get(cache, p);
    struct stat st {};
    ASSERT_EQ(::stat(p.c_str(), &st), 0);
    EXPECT_EQ(f->content_type, "text/html; charset=utf-8");
    EXPECT_EQ(f->content_length, "8");
    EXPECT_EQ(f->last_modified, sockhost::sdk::http::format_http_date(st.st_mtim.tv_sec));
    ASSERT_TRUE(f->etag);
    EXPECT_EQ(*f->etag, sockhost::sdk::http::make_etag(st));
    EXPECT_EQ(f->st.st_ino, st.st_ino);

    files::FileCache no_etag({.max_entries = 4, .valid = 1.0, .inline_max = 0, .etag = false}, &fake_now);
    EXPECT_FALSE(get(no_etag, p)->etag);
}

TEST_F(FileCacheTest, AfterExpiryAnUnchangedFileKeepsItsEntry) {
    files::FileCache cache = make();
    fs::path p = write("same.txt", "unchanged");
    auto first = get(cache, p);
    fake_time += 1500ms;
    auto again = get(cache, p);
    EXPECT_EQ(opens_, 2);          // revalidated with a real open
    EXPECT_EQ(again, first);       // ... and the old entry, body and all, kept
    fake_time += 500ms;            // fresh again from the revalidation on
    EXPECT_EQ(get(cache, p), first);
    EXPECT_EQ(opens_, 2);
}

TEST_F(FileCacheTest, AfterExpiryAChangedFileReplacesItsEntry) {
    files::FileCache cache = make();
    fs::path p = write("doc.txt", "version one");
    auto v1 = get(cache, p);
    write("doc.txt", "version two, longer");
    // Within the validity period the cached version is what is served.
    EXPECT_EQ(*get(cache, p)->body, "version one");
    fake_time += 1s;
    auto v2 = get(cache, p);
    EXPECT_NE(v2, v1);
    EXPECT_EQ(*v2->body, "version two, longer");
    EXPECT_EQ(v2->content_length, "19");
    // The old entry is still whole for whoever holds it.
    EXPECT_EQ(*v1->body, "version one");

    // Same size, only the mtime moved: replaced too.
    struct timespec times[2] = {{0, UTIME_OMIT}, {v2->st.st_mtim.tv_sec - 100, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, 0), 0);
    fake_time += 1s;
    auto v3 = get(cache, p);
    EXPECT_NE(v3, v2);
    EXPECT_EQ(v3->st.st_mtim.tv_sec, v2->st.st_mtim.tv_sec - 100);
    EXPECT_EQ(v3->last_modified, sockhost::sdk::http::format_http_date(v2->st.st_mtim.tv_sec - 100));
    EXPECT_EQ(cache.size(), 1u);
}

TEST_F(FileCacheTest, AfterExpiryADeletedFileIsDroppedAndItsErrorNotCached) {
    files::FileCache cache = make();
    fs::path p = write("gone.txt", "soon gone");
    get(cache, p);
    fs::remove(p);
    EXPECT_EQ(*get(cache, p)->body, "soon gone");   // still valid: served from memory
    fake_time += 1s;
    std::shared_ptr<const files::CachedFile> out;
    EXPECT_EQ(open(cache, p, out), ENOENT);
    EXPECT_EQ(out, nullptr);
    EXPECT_EQ(cache.size(), 0u);
    // The error is not cached: every try opens again, and a new file is seen at once.
    const int before = opens_;
    EXPECT_EQ(open(cache, p, out), ENOENT);
    EXPECT_EQ(opens_, before + 1);
    write("gone.txt", "back");
    EXPECT_EQ(*get(cache, p)->body, "back");
}

TEST_F(FileCacheTest, DirectoriesAndOtherFilesAreNeverCached) {
    files::FileCache cache = make();
    fs::create_directories(dir_ / "sub");
    std::shared_ptr<const files::CachedFile> out;
    files::OpenFile file;
    EXPECT_EQ(open(cache, dir_ / "sub", out, &file), 0);
    EXPECT_EQ(out, nullptr);
    EXPECT_TRUE(file.is_dir());   // handed back open for the caller
    EXPECT_GE(file.fd(), 0);
    EXPECT_EQ(cache.size(), 0u);

    // A cached file that became a directory is dropped at revalidation.
    fs::path p = write("flip", "file");
    get(cache, p);
    fs::remove(p);
    fs::create_directories(p);
    fake_time += 1s;
    EXPECT_EQ(open(cache, p, out, &file), 0);
    EXPECT_EQ(out, nullptr);
    EXPECT_TRUE(file.is_dir());
    EXPECT_EQ(cache.size(), 0u);
}

TEST_F(FileCacheTest, HoldsAtMostMaxEntriesDroppingTheLeastRecentlyUsed) {
    files::FileCache cache = make(/*max_entries=*/3);
    std::vector<fs::path> files;
    for (int i = 0; i < 5; ++i) files.push_back(write("f" + std::to_string(i), std::string(1, char('a' + i))));
    get(cache, files[0]);
    get(cache, files[1]);
    get(cache, files[2]);
    get(cache, files[0]);   // a hit: files[1] is now the least recently used
    EXPECT_EQ(opens_, 3);
    get(cache, files[3]);
    EXPECT_EQ(cache.size(), 3u);
    const int before = opens_;
    get(cache, files[0]);
    get(cache, files[2]);
    get(cache, files[3]);
    EXPECT_EQ(opens_, before);       // all three still cached
    get(cache, files[1]);            // was evicted: opened again
    EXPECT_EQ(opens_, before + 1);
    EXPECT_EQ(cache.size(), 3u);
}

TEST_F(FileCacheTest, WhenFullExpiredEntriesGoBeforeFreshOnes) {
    files::FileCache cache = make(/*max_entries=*/3);
    fs::path a = write("a", "a"), b = write("b", "b"), c = write("c", "c"), d = write("d", "d");
    get(cache, a);
    fake_time += 600ms;
    get(cache, b);
    get(cache, c);
    get(cache, a);          // a hit: a is the most recently used, but validated first
    fake_time += 600ms;     // a has expired, b and c have not
    get(cache, d);
    EXPECT_EQ(cache.size(), 3u);
    const int before = opens_;
    get(cache, b);
    get(cache, c);
    get(cache, d);
    EXPECT_EQ(opens_, before);   // b, c, d cached; a went although used last
}

TEST_F(FileCacheTest, OnlyFilesUpToTheInlineLimitAreHeldInMemory) {
    files::FileCache cache = make(/*max_entries=*/8, /*inline_max=*/100);
    auto small = get(cache, write("small", std::string(100, 's')));
    ASSERT_TRUE(small->body);
    EXPECT_EQ(*small->body, std::string(100, 's'));
    EXPECT_EQ(small->fd.get(), -1);   // never sent from the fd: none held
    auto big = get(cache, write("big", std::string(101, 'b')));
    EXPECT_FALSE(big->body);
    EXPECT_TRUE(fd_is_open(big->fd.get()));
    auto empty = get(cache, write("empty", ""));
    ASSERT_TRUE(empty->body);
    EXPECT_EQ(*empty->body, "");

    files::FileCache no_inline = make(8, /*inline_max=*/0);
    auto one = get(no_inline, dir_ / "small");
    EXPECT_FALSE(one->body);
    EXPECT_TRUE(fd_is_open(one->fd.get()));
}

TEST_F(FileCacheTest, TheFdClosesOnlyWhenTheLastReferenceGoes) {
    files::FileCache cache = make(/*max_entries=*/1, /*inline_max=*/0);
    fs::path p = write("held", "held while sending");
    std::shared_ptr<const files::CachedFile> in_flight = get(cache, p);
    const int fd = in_flight->fd.get();
    ASSERT_TRUE(fd_is_open(fd));
    get(cache, write("other", "evicts held"));   // the cache lets go of "held"
    EXPECT_EQ(cache.size(), 1u);
    EXPECT_TRUE(fd_is_open(fd));                 // the request still has it
    char buf[4] = {};
    EXPECT_EQ(::pread(fd, buf, 4, 0), 4);
    EXPECT_EQ(std::string(buf, 4), "held");
    in_flight.reset();
    EXPECT_FALSE(fd_is_open(fd));

    // Dropped by a failed revalidation while in use: the same.
    std::shared_ptr<const files::CachedFile> other = get(cache, dir_ / "other");
    const int other_fd = other->fd.get();
    fs::remove(dir_ / "other");
    fake_time += 1s;
    std::shared_ptr<const files::CachedFile> out;
    EXPECT_EQ(open(cache, dir_ / "other", out), ENOENT);
    EXPECT_EQ(cache.size(), 0u);
    EXPECT_TRUE(fd_is_open(other_fd));
    other.reset();
    EXPECT_FALSE(fd_is_open(other_fd));
}

TEST_F(FileCacheTest, EraseDropsAnEntry) {
    files::FileCache cache = make();
    fs::path p = write("x", "x");
    get(cache, p);
    cache.erase(p.native());
    cache.erase("/no/such/key");
    EXPECT_EQ(cache.size(), 0u);
    get(cache, p);
    EXPECT_EQ(opens_, 2);
}

TEST_F(FileCacheTest, ManyThreadsShareOneCache) {
    // Real clock and a short validity so revalidation races with hits.
    files::FileCache cache({.max_entries = 4, .valid = 0.001, .inline_max = 64, .etag = true});
    std::vector<fs::path> files;
    for (int i = 0; i < 6; ++i)
        files.push_back(write("t" + std::to_string(i), std::string(static_cast<std::size_t>(i) * 30, char('0' + i))));
    std::atomic<int> bad{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 2000; ++i) {
                const fs::path& p = files[static_cast<std::size_t>((i + t) % 6)];
                files::OpenFile file;
                std::shared_ptr<const files::CachedFile> out;
                int err = cache.open(p.native(), "t", [&p](files::OpenFile& f) { return f.open(p, nullptr); },
                                     file, out);
                const std::size_t size = static_cast<std::size_t>((i + t) % 6) * 30;
                if (err != 0 || !out || static_cast<std::size_t>(out->st.st_size) != size) ++bad;
                else if (out->body ? out->body->size() != size : !fd_is_open(out->fd.get())) ++bad;
            }
        });
    }
    for (std::thread& th : threads) th.join();
    EXPECT_EQ(bad.load(), 0);
    EXPECT_LE(cache.size(), 4u);
}

TEST(FileCacheVersion, ComparesDeviceInodeSizeAndBothTimes) {
    struct stat a {};
    a.st_dev = 1;
    a.st_ino = 2;
    a.st_size = 3;
    a.st_mtim = {4, 5};
    a.st_ctim = {6, 7};
    EXPECT_TRUE(files::same_file_version(a, a));
    auto differs = [&a](auto change) {
        struct stat b = a;
        change(b);
        return !files::same_file_version(a, b);
    };
    EXPECT_TRUE(differs([](struct stat& s) { s.st_dev = 9; }));
    EXPECT_TRUE(differs([](struct stat& s) { s.st_ino = 9; }));
    EXPECT_TRUE(differs([](struct stat& s) { s.st_size = 9; }));
    EXPECT_TRUE(differs([](struct stat& s) { s.st_mtim.tv_nsec = 9; }));
    EXPECT_TRUE(differs([](struct stat& s) { s.st_ctim.tv_sec = 9; }));
    EXPECT_FALSE(differs([](struct stat& s) { s.st_atim.tv_sec = 9; }));
}

// --- the options --------------------------------------------------------------------

using hs::testing::option_error_key;

TEST(FileCacheOptions, DefaultsAndRanges) {
    files::Config c = files::Config::from_options(sdk::Options{});
    EXPECT_EQ(c.open_file_cache, 1000u);
    EXPECT_EQ(c.open_file_cache_valid, 1.0);
    EXPECT_EQ(c.open_file_cache_inline, 16384u);
    ASSERT_NE(c.file_cache, nullptr);
    EXPECT_EQ(c.file_cache->settings().max_entries, 1000u);

    files::Config off = files::Config::from_options({{"open_file_cache", std::int64_t{0}}});
    EXPECT_EQ(off.file_cache, nullptr);
    files::Config set = files::Config::from_options({{"open_file_cache", std::int64_t{5}},
                                               {"open_file_cache_valid", std::int64_t{2}},
                                               {"open_file_cache_inline", std::int64_t{0}}});
    EXPECT_EQ(set.file_cache->settings().max_entries, 5u);
    EXPECT_EQ(set.file_cache->settings().valid, 2.0);
    EXPECT_EQ(set.file_cache->settings().inline_max, 0u);

    EXPECT_EQ(option_error_key({{"open_file_cache", std::int64_t{-1}}}), "open_file_cache");
    EXPECT_EQ(option_error_key({{"open_file_cache", std::int64_t{100001}}}), "open_file_cache");
    EXPECT_EQ(option_error_key({{"open_file_cache", std::string("on")}}), "open_file_cache");
    EXPECT_EQ(option_error_key({{"open_file_cache", std::int64_t{100000}}}), "");
    EXPECT_EQ(option_error_key({{"open_file_cache_valid", 0.0}}), "open_file_cache_valid");
    EXPECT_EQ(option_error_key({{"open_file_cache_valid", -1.0}}), "open_file_cache_valid");
    EXPECT_EQ(option_error_key({{"open_file_cache_valid", 3600.5}}), "open_file_cache_valid");
    EXPECT_EQ(option_error_key({{"open_file_cache_valid", std::string("1s")}}), "open_file_cache_valid");
    EXPECT_EQ(option_error_key({{"open_file_cache_valid", 0.05}}), "");
    EXPECT_EQ(option_error_key({{"open_file_cache_valid", std::int64_t{3600}}}), "");
    EXPECT_EQ(option_error_key({{"open_file_cache_inline", std::int64_t{-1}}}), "open_file_cache_inline");
    EXPECT_EQ(option_error_key({{"open_file_cache_inline", std::int64_t{1048577}}}), "open_file_cache_inline");
    EXPECT_EQ(option_error_key({{"open_file_cache_inline", std::int64_t{1048576}}}), "");
}

TEST(FileCacheOptions, ConfigCopiesShareOneCache) {
    files::Config c = files::Config::from_options(sdk::Options{});
    files::Config copy = c;
    EXPECT_EQ(copy.file_cache, c.file_cache);
    EXPECT_NE(files::Config::from_options(sdk::Options{}).file_cache, c.file_cache);   // one per server
}

// --- the handler, with and without the cache -------------------------------------------

/// Drops what legitimately differs between two runs: the Date field and
/// multipart boundaries.
std::string normalise(std::string raw) {
    raw = std::regex_replace(raw, std::regex("Date: [^\r]*\r\n"), "Date: X\r\n");
    return std::regex_replace(raw, std::regex("[0-9a-f]{24}"), "BOUNDARY");
}

class CachedHandler : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/sockhost-fcache-h-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        root_ = tmpl;
        write("small.txt", "0123456789abcdef");
        std::string big(200 * 1024, '\0');
        for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('A' + (i * 13 + i / 977) % 26);
        big_ = big;
        write("big.bin", big);
        write("site/index.html", "<h1>index</h1>");
        fs::create_directories(root_ / "empty");
    }
    void TearDown() override { fs::remove_all(root_); }
    void write(const std::string& name, std::string_view content) const {
        fs::path p = root_ / name;
        fs::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
    }

    /// Runs every request in `raws`, each on its own connection, through
    /// handlers of one factory made with `options` (so they share a cache).
    std::vector<std::string> run(sdk::Options options, const std::vector<std::string>& raws) {
        options.set("directory", root_.string());
        hs::validate_options(options);
        sdk::HandlerFactory factory = hs::make_factory(options);
        testkit::FakeServer server(options);
        std::vector<std::string> out;
        for (const std::string& raw : raws) {
            std::unique_ptr<sdk::BaseRequestHandler> handler = factory(sdk::Transport::stream);
            auto* stream = dynamic_cast<sdk::StreamRequestHandler*>(handler.get());
            EXPECT_NE(stream, nullptr);
            testkit::Result r = testkit::run_stream(*stream, raw, server);
            EXPECT_FALSE(r.error);
            out.push_back(normalise(r.output));
        }
        return out;
    }

    fs::path root_;
    std::string big_;
};

std::string req(const std::string& target, const std::string& extra = {}, const std::string& method = "GET") {
    return method + " " + target + " HTTP/1.1\r\nHost: t\r\n" + extra + "Connection: close\r\n\r\n";
}

TEST_F(CachedHandler, EveryResponseIsTheSameWithAndWithoutTheCache) {
    struct stat st {};
    ASSERT_EQ(::stat((root_ / "small.txt").c_str(), &st), 0);
    const std::string etag = sockhost::sdk::http::make_etag(st);
    const std::string lm = sockhost::sdk::http::format_http_date(st.st_mtim.tv_sec);
    std::vector<std::string> raws;
    for (const std::string target : {"/small.txt", "/big.bin"}) {
        raws.push_back(req(target));
        raws.push_back(req(target, {}, "HEAD"));
        raws.push_back(req(target, "Range: bytes=3-7\r\n"));
        raws.push_back(req(target, "Range: bytes=-4\r\n"));
        raws.push_back(req(target, "Range: bytes=0-1,5-6,10-\r\n"));
        raws.push_back(req(target, "Range: bytes=999999-\r\n"));
        raws.push_back(req(target, "Range: bytes=2-3\r\n", "HEAD"));
        raws.push_back(req(target, "Range: bytes=2-3\r\nIf-Range: \"nope\"\r\n"));
        raws.push_back(req(target + std::string("/")));
    }
    raws.push_back(req("/small.txt", "If-None-Match: " + etag + "\r\n"));
    raws.push_back(req("/small.txt", "If-Modified-Since: " + lm + "\r\n"));
    raws.push_back(req("/small.txt", "If-Match: \"other\"\r\n"));
    raws.push_back(req("/small.txt", "Range: bytes=2-3\r\nIf-Range: " + etag + "\r\n"));
    raws.push_back(req("/site/"));
    raws.push_back(req("/site"));
    raws.push_back(req("/empty/"));
    raws.push_back(req("/missing.txt"));
    raws.push_back(req("/small.txt", {}, "DELETE"));
    // Each request twice: the second run of a cached server answers from the cache.
    std::vector<std::string> twice = raws;
    twice.insert(twice.end(), raws.begin(), raws.end());

    std::vector<std::string> plain = run({{"open_file_cache", std::int64_t{0}}}, twice);
    std::vector<std::string> cached = run({}, twice);
    std::vector<std::string> all_in_memory = run({{"open_file_cache_inline", std::int64_t{1 << 20}}}, twice);
    ASSERT_EQ(plain.size(), cached.size());
    for (std::size_t i = 0; i < plain.size(); ++i) {
        EXPECT_EQ(cached[i], plain[i]) << twice[i];
        EXPECT_EQ(all_in_memory[i], plain[i]) << twice[i];
    }
    // A sanity check that the comparison compares something.
    EXPECT_NE(plain[0].find("\r\n\r\n0123456789abcdef"), std::string::npos) << plain[0];
    EXPECT_NE(plain[9].find(big_), std::string::npos);
}

TEST_F(CachedHandler, HandlersOfOneServerShareTheCacheUntilRevalidation) {
    auto serve_twice = [this](sdk::Options options) {
        options.set("directory", root_.string());
        sdk::HandlerFactory factory = hs::make_factory(options);
        testkit::FakeServer server(options);
        auto get = [&](const std::string& target) {
            auto handler = factory(sdk::Transport::stream);
            auto* stream = dynamic_cast<sdk::StreamRequestHandler*>(handler.get());
            EXPECT_NE(stream, nullptr);
            return testkit::run_stream(*stream, req(target), server).output;
        };
        std::string before = get("/small.txt") + get("/site/");
        write("small.txt", "changed!");
        write("site/index.html", "<h1>changed index</h1>");
        std::string after = get("/small.txt") + get("/site/");
        write("small.txt", "0123456789abcdef");
        write("site/index.html", "<h1>index</h1>");
        return std::make_pair(before, after);
    };
    // An hour of validity: the second handler is answered from the first's entries.
    auto [cached_before, cached_after] = serve_twice({{"open_file_cache_valid", 3600.0}});
    EXPECT_NE(cached_after.find("\r\n\r\n0123456789abcdef"), std::string::npos) << cached_after;
    EXPECT_NE(cached_after.find("<h1>index</h1>"), std::string::npos) << cached_after;
    // No cache: the change shows at once.
    auto [plain_before, plain_after] = serve_twice({{"open_file_cache", std::int64_t{0}}});
    EXPECT_NE(plain_after.find("\r\n\r\nchanged!"), std::string::npos) << plain_after;
    EXPECT_NE(plain_after.find("<h1>changed index</h1>"), std::string::npos) << plain_after;
}

}  // namespace
