// SPDX-License-Identifier: MIT
// The cgi plugin's pure functions: CGI directories and script location,
// Basic credentials as Python decodes them, the RFC 3875 environment, the
// script's header block, stderr line splitting, option validation.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <mutex>
#include <thread>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cgi/cgi.hpp"
#include "cgi/cgi_body.hpp"
#include "cgi/cgi_protocol.hpp"

namespace cg = sockhost::plugins::cgi;
namespace fs = std::filesystem;
using sockhost::sdk::Options;
using sockhost::sdk::OptionError;
using namespace std::chrono_literals;
using sockhost::sdk::http::Headers;
using State = cg::HeaderBlockResult::State;
using Kind = cg::CgiResponse::Kind;

namespace {

std::vector<std::string> segs(std::initializer_list<const char*> list) {
    return std::vector<std::string>(list.begin(), list.end());
}

// --- CGI directories ------------------------------------------------------------

TEST(CgiParseDirectory, AcceptsUrlPathsAndNormalisesSlashes) {
    EXPECT_EQ(cg::parse_cgi_directory("/cgi-bin"), segs({"cgi-bin"}));
    EXPECT_EQ(cg::parse_cgi_directory("/a//b/"), segs({"a", "b"}));
}

TEST(CgiParseDirectory, RejectsRelativeRootAndDotSegments) {
    EXPECT_FALSE(cg::parse_cgi_directory("cgi-bin"));
    EXPECT_FALSE(cg::parse_cgi_directory(""));
    EXPECT_FALSE(cg::parse_cgi_directory("/"));
    EXPECT_FALSE(cg::parse_cgi_directory("//"));
    EXPECT_FALSE(cg::parse_cgi_directory("/a/../b"));
    EXPECT_FALSE(cg::parse_cgi_directory("/./x"));
}

TEST(CgiMatchDirectory, MatchesWholeSegmentsOnly) {
    std::vector<std::vector<std::string>> dirs = {segs({"cgi-bin"}), segs({"htbin"})};
    EXPECT_EQ(cg::match_cgi_directory(segs({"cgi-bin", "x.sh"}), dirs), 1u);
    EXPECT_EQ(cg::match_cgi_directory(segs({"htbin", "sub", "x"}), dirs), 1u);
    EXPECT_EQ(cg::match_cgi_directory(segs({"cgi-bin"}), dirs), 1u);
    EXPECT_FALSE(cg::match_cgi_directory(segs({"cgi-binx", "x"}), dirs));
    EXPECT_FALSE(cg::match_cgi_directory(segs({"a", "cgi-bin", "x"}), dirs));
    EXPECT_FALSE(cg::match_cgi_directory(segs({}), dirs));
}

TEST(CgiMatchDirectory, PrefersTheLongestDirectory) {
    std::vector<std::vector<std::string>> dirs = {segs({"a"}), segs({"a", "b"})};
    EXPECT_EQ(cg::match_cgi_directory(segs({"a", "b", "x"}), dirs), 2u);
    EXPECT_EQ(cg::match_cgi_directory(segs({"a", "c"}), dirs), 1u);
}

/// A fake file system: path -> mode (absent = ENOENT).
cg::StatFn fake_fs(std::map<std::string, mode_t> entries) {
    return [entries](const fs::path& p, struct stat& st) -> int {
        auto it = entries.find(p.string());
        if (it == entries.end()) return ENOENT;
        st = {};
        st.st_mode = it->second;
        return 0;
    };
}

TEST(CgiLocateScript, FindsTheFirstRegularFileAndLeavesTheRestAsPathInfo) {
    auto stat_fn = fake_fs({{"/r/cgi-bin", S_IFDIR}, {"/r/cgi-bin/sub", S_IFDIR},
                            {"/r/cgi-bin/sub/s.sh", S_IFREG | 0755}});
    cg::ScriptLocation loc = cg::locate_script("/r", segs({"cgi-bin", "sub", "s.sh", "a", "b"}), 1, stat_fn);
    EXPECT_EQ(loc.status, 0);
    EXPECT_EQ(loc.script_len, 3u);
}

TEST(CgiLocateScript, MissingComponentIs404) {
    auto stat_fn = fake_fs({{"/r/cgi-bin", S_IFDIR}});
    EXPECT_EQ(cg::locate_script("/r", segs({"cgi-bin", "nope", "x"}), 1, stat_fn).status, 404);
}

TEST(CgiLocateScript, DirectoriesAllTheWayAndSpecialFilesAre403) {
    auto stat_fn = fake_fs({{"/r/cgi-bin", S_IFDIR}, {"/r/cgi-bin/d", S_IFDIR}, {"/r/cgi-bin/f", S_IFIFO}});
    EXPECT_EQ(cg::locate_script("/r", segs({"cgi-bin"}), 1, stat_fn).status, 403);
    EXPECT_EQ(cg::locate_script("/r", segs({"cgi-bin", "d"}), 1, stat_fn).status, 403);
    EXPECT_EQ(cg::locate_script("/r", segs({"cgi-bin", "f"}), 1, stat_fn).status, 403);
}

TEST(CgiLocateScript, PermissionErrorIs403) {
    cg::StatFn denied = [](const fs::path&, struct stat&) { return EACCES; };
    EXPECT_EQ(cg::locate_script("/r", segs({"cgi-bin", "x"}), 1, denied).status, 403);
}

TEST(CgiPathInfo, KeepsTrailingSlashAndIsEmptyWithoutExtraSegments) {
    auto s = segs({"cgi-bin", "x", "a", "b"});
    EXPECT_EQ(cg::path_info_for(s, 2, false), "/a/b");
    EXPECT_EQ(cg::path_info_for(s, 2, true), "/a/b/");
    EXPECT_EQ(cg::path_info_for(s, 4, false), "");
    EXPECT_EQ(cg::path_info_for(s, 4, true), "/");
    EXPECT_EQ(cg::join_url(s, 0, 2), "/cgi-bin/x");
}

// --- Authorization ------------------------------------------------------------

TEST(CgiBase64Lenient, DecodesLikeBinascii) {
    EXPECT_EQ(cg::base64_decode_lenient("Ym9iOnB3"), "bob:pw");
    EXPECT_EQ(cg::base64_decode_lenient("YQ=="), "a");
    EXPECT_EQ(cg::base64_decode_lenient("YWI="), "ab");
    EXPECT_EQ(cg::base64_decode_lenient("Y W\nJ j"), "abc");   // non-alphabet bytes skipped
    EXPECT_EQ(cg::base64_decode_lenient("YQ==junk"), "a");     // a full pad ends the data
    EXPECT_EQ(cg::base64_decode_lenient(""), "");
}

TEST(CgiBase64Lenient, RejectsIncompleteQuanta) {
    EXPECT_FALSE(cg::base64_decode_lenient("YQ"));    // "Incorrect padding"
    EXPECT_FALSE(cg::base64_decode_lenient("YQ="));
    EXPECT_FALSE(cg::base64_decode_lenient("Y"));
    EXPECT_FALSE(cg::base64_decode_lenient("YWJjZ"));
}

TEST(CgiDecodeAuthorization, BasicGivesTypeAndUser) {
    cg::AuthInfo a = cg::decode_authorization("Basic Ym9iOnB3");   // bob:pw
    EXPECT_EQ(a.auth_type, "Basic");
    EXPECT_EQ(a.remote_user, "bob");
    a = cg::decode_authorization("  basic \t Ym9iOnB3 ");
    EXPECT_EQ(a.auth_type, "basic");
    EXPECT_EQ(a.remote_user, "bob");
}

TEST(CgiDecodeAuthorization, OtherSchemesGiveOnlyTheType) {
    cg::AuthInfo a = cg::decode_authorization("Bearer abc.def");
    EXPECT_EQ(a.auth_type, "Bearer");
    EXPECT_FALSE(a.remote_user);
}

TEST(CgiDecodeAuthorization, FollowsPythonsEdgeCases) {
    // Not exactly two words: nothing at all.
    EXPECT_FALSE(cg::decode_authorization("Basic").auth_type);
    EXPECT_FALSE(cg::decode_authorization("Basic a b").auth_type);
    // Bad base64, non-ASCII, or not exactly one ':': AUTH_TYPE only.
    EXPECT_FALSE(cg::decode_authorization("Basic Ym9").remote_user);
    EXPECT_FALSE(cg::decode_authorization("Basic w6k6eA==").remote_user);        // "é:x"
    EXPECT_FALSE(cg::decode_authorization("Basic Ym9i").remote_user);            // "bob"
    EXPECT_FALSE(cg::decode_authorization("Basic YTpiOmM=").remote_user);        // "a:b:c"
    EXPECT_EQ(cg::decode_authorization("Basic OnB3").remote_user, "");           // ":pw"
    EXPECT_EQ(cg::decode_authorization("Basic YTpiOmM=").auth_type, "Basic");
}

// --- Environment ----------------------------------------------------------------

TEST(CgiHeaderMetaVariable, UppercasesAndMapsDashes) {
    EXPECT_EQ(cg::header_meta_variable("Accept-Encoding"), "HTTP_ACCEPT_ENCODING");
    EXPECT_EQ(cg::header_meta_variable("x-custom"), "HTTP_X_CUSTOM");
}

TEST(CgiHeaderMetaVariable, NeverProxyCredentialsBodyFieldsOrUnderscores) {
    for (const char* name : {"Proxy", "proxy", "Authorization", "Proxy-Authorization", "Content-Type",
                             "content-length", "Transfer-Encoding", "X_Forwarded-For", ""})
        EXPECT_FALSE(cg::header_meta_variable(name)) << name;
}

TEST(CgiServerName, TakesTheHostFieldWhenItIsAPlainHost) {
    EXPECT_EQ(cg::server_name_for("example.org:8080", "127.0.0.1"), "example.org");
    EXPECT_EQ(cg::server_name_for("[::1]:80", "127.0.0.1"), "[::1]");
    EXPECT_EQ(cg::server_name_for(std::nullopt, "127.0.0.1"), "127.0.0.1");
    EXPECT_EQ(cg::server_name_for("evil;rm -rf", "127.0.0.1"), "127.0.0.1");
    EXPECT_EQ(cg::server_name_for(":80", "127.0.0.1"), "127.0.0.1");
    EXPECT_EQ(cg::server_name_for("[zz]", "127.0.0.1"), "127.0.0.1");
}

std::map<std::string, std::string> as_map(const std::vector<std::string>& env) {
    std::map<std::string, std::string> m;
    for (const std::string& e : env) {
        std::size_t eq = e.find('=');
        EXPECT_NE(eq, std::string::npos) << e;
        EXPECT_TRUE(m.emplace(e.substr(0, eq), e.substr(eq + 1)).second) << "duplicate " << e;
    }
    return m;
}

cg::CgiRequest sample_request() {
    cg::CgiRequest r;
    r.method = "POST";
    r.protocol = "HTTP/1.1";
    r.script_name = "/cgi-bin/x.sh";
    r.path_info = "/a b";
    r.path_translated = "/srv/www/a b";
    r.query = "q=1?x";
    r.remote_addr = "127.0.0.1";
    r.server_name = "localhost";
    r.server_port = "8080";
    r.server_software = "sockhost/0.1";
    r.with_body = true;
    r.content_length = 12;
    return r;
}

TEST(CgiBuildEnvironment, HasEveryRfc3875VariableAndNothingElse) {
    Headers h;
    h.add("Host", "localhost:8080");
    h.add("Content-Type", "application/x-www-form-urlencoded");
    h.add("Content-Length", "12");
    h.add("Authorization", "Basic Ym9iOnB3");
    auto env = as_map(cg::build_environment(sample_request(), h));
    const std::map<std::string, std::string> expected = {
        {"AUTH_TYPE", "Basic"},
        {"CONTENT_LENGTH", "12"},
        {"CONTENT_TYPE", "application/x-www-form-urlencoded"},
        {"GATEWAY_INTERFACE", "CGI/1.1"},
        {"HTTP_HOST", "localhost:8080"},
        {"PATH", "/usr/local/bin:/usr/bin:/bin"},
        {"PATH_INFO", "/a b"},
        {"PATH_TRANSLATED", "/srv/www/a b"},
        {"QUERY_STRING", "q=1?x"},
        {"REMOTE_ADDR", "127.0.0.1"},
        {"REMOTE_HOST", "127.0.0.1"},
        {"REMOTE_USER", "bob"},
        {"REQUEST_METHOD", "POST"},
        {"SCRIPT_NAME", "/cgi-bin/x.sh"},
        {"SERVER_NAME", "localhost"},
        {"SERVER_PORT", "8080"},
        {"SERVER_PROTOCOL", "HTTP/1.1"},
        {"SERVER_SOFTWARE", "sockhost/0.1"},
    };
    EXPECT_EQ(env, expected);
}

TEST(CgiBuildEnvironment, JoinsRepeatedFieldsAndDropsProxy) {
    Headers h;
    h.add("Accept", "text/html");
    h.add("Proxy", "http://evil:1");
    h.add("accept", "text/plain");
    h.add("Cookie", "a=1");
    h.add("Cookie", "b=2");
    h.add("X_Forwarded-For", "1.2.3.4");
    h.add("Transfer-Encoding", "chunked");
    auto env = as_map(cg::build_environment(sample_request(), h));
    EXPECT_EQ(env["HTTP_ACCEPT"], "text/html, text/plain");
    EXPECT_EQ(env["HTTP_COOKIE"], "a=1; b=2");
    EXPECT_EQ(env.count("HTTP_PROXY"), 0u);
    EXPECT_EQ(env.count("HTTP_X_FORWARDED_FOR"), 0u);
    EXPECT_EQ(env.count("HTTP_TRANSFER_ENCODING"), 0u);
    EXPECT_EQ(env.count("AUTH_TYPE"), 0u);
}

TEST(CgiBuildEnvironment, NoBodyMeansNoContentVariablesAndChunkedHasNoLength) {
    Headers h;
    h.add("Content-Type", "text/plain");
    cg::CgiRequest r = sample_request();
    r.with_body = false;
    auto env = as_map(cg::build_environment(r, h));
    EXPECT_EQ(env.count("CONTENT_LENGTH"), 0u);
    EXPECT_EQ(env.count("CONTENT_TYPE"), 0u);
    r.with_body = true;
    r.content_length.reset();   // chunked
    env = as_map(cg::build_environment(r, h));
    EXPECT_EQ(env.count("CONTENT_LENGTH"), 0u);
    EXPECT_EQ(env["CONTENT_TYPE"], "text/plain");
}

TEST(CgiBuildEnvironment, EmptyPathInfoLeavesPathTranslatedUnset) {
    cg::CgiRequest r = sample_request();
    r.path_info.clear();
    r.query.clear();
    auto env = as_map(cg::build_environment(r, Headers{}));
    EXPECT_EQ(env["PATH_INFO"], "");
    EXPECT_EQ(env.count("PATH_TRANSLATED"), 0u);
    EXPECT_EQ(env["QUERY_STRING"], "");
}

TEST(CgiBuildEnvironment, RemoteUserWithNulIsLeftOut) {
    Headers h;
    h.add("Authorization", "Basic YQBiOmM=");   // "a\0b:c"
    auto env = as_map(cg::build_environment(sample_request(), h));
    EXPECT_EQ(env["AUTH_TYPE"], "Basic");
    EXPECT_EQ(env.count("REMOTE_USER"), 0u);
}

// --- Header block ---------------------------------------------------------------

TEST(CgiHeaderBlock, DocumentWithLfOrCrlfLines) {
    for (std::string_view text : {"Content-Type: text/plain\n\nbody", "Content-Type: text/plain\r\n\r\nbody"}) {
        cg::HeaderBlockResult r = cg::parse_header_block(text);
        ASSERT_EQ(r.state, State::done) << r.error;
        EXPECT_EQ(text.substr(r.consumed), "body");
        EXPECT_EQ(r.response.kind, Kind::document);
        EXPECT_EQ(r.response.status, 200);
        ASSERT_EQ(r.response.fields.size(), 1u);
        EXPECT_EQ(r.response.fields[0].second, "text/plain");
    }
}

TEST(CgiHeaderBlock, NeedsTheBlankLine) {
    EXPECT_EQ(cg::parse_header_block("Content-Type: text/plain\n").state, State::need_more);
    EXPECT_EQ(cg::parse_header_block("Content-Ty").state, State::need_more);
    EXPECT_EQ(cg::parse_header_block("").state, State::need_more);
}

TEST(CgiHeaderBlock, StatusWithAndWithoutReason) {
    cg::HeaderBlockResult r = cg::parse_header_block("Status: 404 Not Here\nContent-Type: text/plain\n\n");
    ASSERT_EQ(r.state, State::done);
    EXPECT_EQ(r.response.status, 404);
    EXPECT_EQ(r.response.reason, "Not Here");
    r = cg::parse_header_block("Status: 204\n\n");
    ASSERT_EQ(r.state, State::done);
    EXPECT_EQ(r.response.status, 204);
    EXPECT_EQ(r.response.reason, "");
    for (std::string_view bad : {"Status: 99 x\n\n", "Status: 600\n\n", "Status: 2x0\n\n", "Status: 200x\n\n",
                                 "Status: 100 Continue\n\n", "Status: 200\nStatus: 200\n\n"})
        EXPECT_EQ(cg::parse_header_block(bad).state, State::invalid) << bad;
}

TEST(CgiHeaderBlock, LocalAndClientRedirects) {
    cg::HeaderBlockResult r = cg::parse_header_block("Location: /other?x=1\n\n");
    ASSERT_EQ(r.state, State::done);
    EXPECT_EQ(r.response.kind, Kind::local_redirect);
    EXPECT_EQ(r.response.location, "/other?x=1");
    r = cg::parse_header_block("Location: http://example.org/\n\n");
    ASSERT_EQ(r.state, State::done);
    EXPECT_EQ(r.response.kind, Kind::client_redirect);
    EXPECT_EQ(r.response.status, 302);
    // With a Status it is a document that carries a Location.
    r = cg::parse_header_block("Status: 301 Moved\nLocation: /x\n\n");
    ASSERT_EQ(r.state, State::done);
    EXPECT_EQ(r.response.kind, Kind::document);
    EXPECT_EQ(r.response.status, 301);
}

TEST(CgiHeaderBlock, ContentLengthIsKeptApartAndFramingFieldsDropped) {
    cg::HeaderBlockResult r = cg::parse_header_block(
        "Content-Type: a/b\nContent-Length: 5\nTransfer-Encoding: chunked\nConnection: close\n"
        "Server: x\nDate: y\nX-Kept: 1\n\n");
    ASSERT_EQ(r.state, State::done) << r.error;
    EXPECT_EQ(r.response.content_length, 5u);
    ASSERT_EQ(r.response.fields.size(), 2u);
    EXPECT_EQ(r.response.fields[0].first, "Content-Type");
    EXPECT_EQ(r.response.fields[1].first, "X-Kept");
    EXPECT_EQ(cg::parse_header_block("Content-Type: a/b\nContent-Length: 5x\n\n").state, State::invalid);
}

TEST(CgiHeaderBlock, RefusesWhatCannotBeAResponse) {
    for (std::string_view bad : {"\n", "\r\n", "X-Only: 1\n\n", "no colon\n\n", "Bad Name: x\n\n",
                                 "Content-Type: a\n folded\n\n", "Content-Type: a\x01z\n\n",
                                 "Content-Type: a\nContent-Type: b\n\n", "Location:\n\n"})
        EXPECT_EQ(cg::parse_header_block(bad).state, State::invalid) << bad;
}

TEST(CgiHeaderBlock, TooLargeIsInvalid) {
    std::string big = "Content-Type: text/plain\nX: " + std::string(200, 'a');
    EXPECT_EQ(cg::parse_header_block(big, 100).state, State::invalid);
    EXPECT_EQ(cg::parse_header_block(big, 1000).state, State::need_more);
}

// --- stderr lines -------------------------------------------------------------------

TEST(CgiLineSplitter, SplitsAcrossFeedsAndFlushesTheLastLine) {
    std::vector<std::string> lines;
    cg::LineSplitter s([&](std::string_view l) { lines.emplace_back(l); });
    s.feed("one\r\ntw");
    s.feed("o\nthr");
    s.finish();
    EXPECT_EQ(lines, (std::vector<std::string>{"one", "two", "thr"}));
}

TEST(CgiLineSplitter, CutsLongLinesAndStopsAfterTheLimit) {
    std::vector<std::string> lines;
    cg::LineSplitter s([&](std::string_view l) { lines.emplace_back(l); }, 4, 2);
    s.feed("abcdefgh\n12\n3\n4\n5\n");
    s.finish();
    EXPECT_EQ(lines, (std::vector<std::string>{"abcd", "12", "(further stderr output dropped)"}));
}

// --- Options ---------------------------------------------------------------------

TEST(CgiOptions, DefaultsAreAsDocumented) {
    cg::CgiConfig c = cg::CgiConfig::from_options(Options{});
    EXPECT_EQ(c.cgi_directories, (std::vector<std::string>{"/cgi-bin", "/htbin"}));
    EXPECT_EQ(c.cgi_timeout, 30.0);
    EXPECT_EQ(c.max_cgi, 16u);
    EXPECT_EQ(c.cgi_queue_timeout, 10.0);
    EXPECT_EQ(c.cgi_user, "nobody");
    EXPECT_EQ(c.body_buffer_size, 16384u);
    EXPECT_EQ(c.body_temp_dir, cg::default_temp_dir());
}

TEST(CgiOptions, RejectsUnknownKeysAndBadValues) {
    fs::path dir = fs::temp_directory_path();
    auto key_of = [](const Options& o) -> std::string {
        try {
            cg::validate_options(o);
        } catch (const OptionError& e) {
            return e.key();
        }
        return "";
    };
    std::string d = dir.string();
    EXPECT_EQ(key_of(Options{{"directory", d}}), "");
    EXPECT_EQ(key_of(Options{{"directory", d}, {"max_body_size", std::int64_t{10}}, {"listing", false}}), "");
    // Every http_static key, the open-file cache's included, is a cgi key too.
    EXPECT_EQ(key_of(Options{{"directory", d},
                             {"open_file_cache", std::int64_t{0}},
                             {"open_file_cache_valid", 2.0},
                             {"open_file_cache_inline", std::int64_t{4096}},
                             {"etag", false}}),
              "");
    EXPECT_EQ(key_of(Options{{"directory", d}, {"open_file_cache", std::int64_t{-1}}}), "open_file_cache");
    EXPECT_EQ(key_of(Options{{"directory", d}, {"cgi_dirs", std::vector<std::string>{"/x"}}}), "cgi_dirs");
    EXPECT_EQ(key_of(Options{{"directory", d}, {"cgi_directories", std::vector<std::string>{"x"}}}),
              "cgi_directories");
    EXPECT_EQ(key_of(Options{{"directory", d}, {"cgi_directories", std::vector<std::string>{"/"}}}),
              "cgi_directories");
    EXPECT_EQ(key_of(Options{{"directory", d}, {"cgi_timeout", 0.0}}), "cgi_timeout");
    EXPECT_EQ(key_of(Options{{"directory", d}, {"cgi_timeout", std::string("1")}}), "cgi_timeout");
    EXPECT_EQ(key_of(Options{{"directory", d}, {"max_cgi", std::int64_t{0}}}), "max_cgi");
    EXPECT_EQ(key_of(Options{{"directory", d}, {"cgi_queue_timeout", 0.0}}), "");
    EXPECT_EQ(key_of(Options{{"directory", d}, {"cgi_queue_timeout", -1.0}}), "cgi_queue_timeout");
    EXPECT_EQ(key_of(Options{{"directory", d}, {"cgi_queue_timeout", 3601.0}}), "cgi_queue_timeout");
    EXPECT_EQ(key_of(Options{{"directory", d}, {"cgi_user", std::string("")}}), "cgi_user");
    EXPECT_EQ(key_of(Options{{"directory", "/nonexistent/x"}}), "directory");
    EXPECT_EQ(key_of(Options{{"directory", d}, {"body_buffer_size", std::int64_t{0}}, {"body_temp_dir", d}}), "");
    EXPECT_EQ(key_of(Options{{"directory", d}, {"body_buffer_size", std::int64_t{-1}}}), "body_buffer_size");
    EXPECT_EQ(key_of(Options{{"directory", d}, {"body_temp_dir", std::string("/nonexistent/x")}}), "body_temp_dir");
    EXPECT_EQ(key_of(Options{{"directory", d}, {"body_temp_dir", std::string("")}}), "body_temp_dir");
}

TEST(CgiLimiter, CountsUpToTheMaximum) {
    cg::CgiLimiter l(2);
    EXPECT_TRUE(l.try_acquire());
    EXPECT_TRUE(l.try_acquire());
    EXPECT_FALSE(l.try_acquire());
    l.release();
    EXPECT_TRUE(l.try_acquire());
    EXPECT_EQ(l.running(), 2u);
}

TEST(CgiLimiter, AWaitEndsWithTheTimeoutWhenNoSlotFrees) {
    cg::CgiLimiter l(1);
    ASSERT_TRUE(l.try_acquire());
    const auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(l.acquire(200ms));
    const auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_GE(waited, 200ms);
    EXPECT_LT(waited, 5s);
    EXPECT_EQ(l.waiting(), 0u);
    EXPECT_EQ(l.running(), 1u);
}

TEST(CgiLimiter, AReleasedSlotGoesToTheOldestWaiter) {
    cg::CgiLimiter l(1);
    ASSERT_TRUE(l.try_acquire());
    std::mutex m;
    std::vector<int> order;
    std::vector<std::thread> waiters;
    for (int i = 0; i < 3; ++i) {
        waiters.emplace_back([&, i] {
            ASSERT_TRUE(l.acquire(20s));
            {
                std::lock_guard lock(m);
                order.push_back(i);
            }
            std::this_thread::sleep_for(10ms);
            l.release();
        });
        // Each is in line before the next starts.
        for (int k = 0; k < 500 && l.waiting() < static_cast<std::size_t>(i + 1); ++k)
            std::this_thread::sleep_for(1ms);
        ASSERT_EQ(l.waiting(), static_cast<std::size_t>(i + 1));
    }
    EXPECT_FALSE(l.try_acquire()) << "a newcomer must not pass those who wait";
    l.release();
    for (std::thread& t : waiters) t.join();
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
    EXPECT_EQ(l.running(), 0u);
    EXPECT_TRUE(l.try_acquire());
}

}  // namespace
