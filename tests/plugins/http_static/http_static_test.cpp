// SPDX-License-Identifier: MIT
// http_static's handler under the SDK test kit: a temporary docroot with a
// secret planted beside it, raw HTTP in, raw HTTP out, no sockets.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <sockhost/sdk.hpp>
#include <sockhost/sdk/http/date.hpp>
#include <sockhost/sdk/testkit.hpp>

#include "files/config.hpp"
#include "http_static/http_static.hpp"
#include "option_error.hpp"

namespace hs = sockhost::plugins::http_static;
namespace files = sockhost::plugins::files;
namespace sdk = sockhost::sdk;
namespace testkit = sockhost::sdk::testkit;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kSecret = "TOPSECRET-must-never-be-served";

/// One parsed HTTP response.
struct Response {
    int status = 0;
    std::multimap<std::string, std::string> headers;   // names lower-cased
    std::string body;

    bool has(const std::string& name) const { return headers.count(name) > 0; }
    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? std::string{} : it->second;
    }
};

/// Parses one response off the front of `raw`; the body by Content-Length
/// (none for 304, nor for a HEAD when `head` is set). status 0 when `raw`
/// holds no complete head.
Response parse_one(std::string_view& raw, bool head = false) {
    Response r;
    std::size_t end = raw.find("\r\n\r\n");
    if (end == std::string_view::npos) return r;
    std::string_view head_text = raw.substr(0, end);
    raw.remove_prefix(end + 4);
    std::size_t line_end = head_text.find("\r\n");
    std::string_view status_line = head_text.substr(0, line_end);
    if (status_line.size() >= 12) r.status = std::stoi(std::string(status_line.substr(9, 3)));
    while (line_end != std::string_view::npos) {
        head_text.remove_prefix(line_end + 2);
        line_end = head_text.find("\r\n");
        std::string_view line = head_text.substr(0, line_end);
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string name(line.substr(0, colon));
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        r.headers.emplace(name, std::string(value));
    }
    std::size_t length = 0;
    if (r.has("content-length") && !head && r.status != 304) length = std::stoul(r.header("content-length"));
    r.body = std::string(raw.substr(0, length));
    raw.remove_prefix(std::min(length, raw.size()));
    return r;
}

/// Every response in `raw` (none of them to a HEAD).
std::vector<Response> parse_responses(std::string_view raw, bool head = false) {
    std::vector<Response> out;
    while (!raw.empty()) {
        Response r = parse_one(raw, head);
        if (r.status == 0) break;
        out.push_back(std::move(r));
    }
    return out;
}

class HttpStaticHandler : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/hs_handlerXXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        base_ = fs::canonical(tmpl);
        root_ = base_ / "root";
        fs::create_directories(root_);
        write(base_ / "secret", kSecret);
        write(root_ / "hello.txt", "Hello, world!\n");
        write(root_ / "<script>&.txt", "xss");
        write(root_ / "digits.bin", "0123456789");
        write(root_ / "empty.txt", "");
        write(root_ / "style.css", "body{}");
        write(root_ / "app.js", "1;");
        write(root_ / "data.json", "{}");
        write(root_ / "pic.png", "\x89PNG");
        write(root_ / "noext", "?");
        write(root_ / "caf\xC3\xA9.txt", "utf8 name");
        write(root_ / ".env", "DOTFILE");
        write(root_ / ".git" / "config", "DOTDIR");
        write(root_ / "sub" / "a.txt", "in sub");
        write(root_ / "site" / "index.html", "<h1>site</h1>");
        write(root_ / "htm" / "index.htm", "htm index");
        fs::create_symlink(base_ / "secret", root_ / "outlink");
        fs::create_symlink("hello.txt", root_ / "inlink");
        fs::create_symlink(base_, root_ / "outdir");
        options_ = sdk::Options{{"directory", root_.string()}};
    }
    void TearDown() override { fs::remove_all(base_); }

    static void write(const fs::path& p, std::string_view content) {
        fs::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary) << content;
    }

    /// Runs `raw` through a handler made exactly as the plugin's factory makes it.
    std::string run_raw(const std::string& raw) {
        hs::validate_options(options_);
        sdk::HandlerFactory factory = hs::make_factory(options_);
        std::unique_ptr<sdk::BaseRequestHandler> handler = factory(sdk::Transport::stream);
        auto* stream = dynamic_cast<sdk::StreamRequestHandler*>(handler.get());
        EXPECT_NE(stream, nullptr);
        testkit::FakeServer server(options_);
        testkit::Result r = testkit::run_stream(*stream, raw, server);
        EXPECT_FALSE(r.error);
        return r.output;
    }

    /// One request, one response.
    Response request(const std::string& method, const std::string& target,
                     const std::string& extra_headers = {}) {
        std::string raw = run_raw(method + " " + target + " HTTP/1.1\r\nHost: test\r\n" + extra_headers +
                                  "Connection: close\r\n\r\n");
        last_raw_ = raw;
        auto responses = parse_responses(raw, method == "HEAD");
        EXPECT_EQ(responses.size(), 1u) << raw;
        return responses.empty() ? Response{} : responses.front();
    }
    Response get(const std::string& target, const std::string& extra = {}) {
        return request("GET", target, extra);
    }

    fs::path base_, root_;
    sdk::Options options_;
    std::string last_raw_;
};

// --- files, MIME types, headers ------------------------------------------------

TEST_F(HttpStaticHandler, ServesAFileWithTypeLengthAndValidators) {
    Response r = get("/hello.txt");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "Hello, world!\n");
    EXPECT_EQ(r.header("content-type"), "text/plain; charset=utf-8");
    EXPECT_EQ(r.header("content-length"), "14");
    EXPECT_EQ(r.header("accept-ranges"), "bytes");
    EXPECT_TRUE(r.has("etag"));
    EXPECT_EQ(r.header("etag").front(), '"');
    struct stat st {};
    ASSERT_EQ(::stat((root_ / "hello.txt").c_str(), &st), 0);
    EXPECT_EQ(r.header("last-modified"), sockhost::sdk::http::format_http_date(st.st_mtim.tv_sec));
    EXPECT_FALSE(r.has("cache-control"));
}

TEST_F(HttpStaticHandler, GuessesMimeTypesByExtension) {
    EXPECT_EQ(get("/style.css").header("content-type"), "text/css; charset=utf-8");
    EXPECT_EQ(get("/data.json").header("content-type"), "application/json; charset=utf-8");
    EXPECT_EQ(get("/pic.png").header("content-type"), "image/png");
    EXPECT_EQ(get("/noext").header("content-type"), "application/octet-stream");
    std::string js = get("/app.js").header("content-type");
    EXPECT_TRUE(js == "text/javascript; charset=utf-8" || js == "application/javascript; charset=utf-8") << js;
}

TEST_F(HttpStaticHandler, ServesUtf8AndPercentEncodedNames) {
    Response r = get("/caf%C3%A9.txt");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "utf8 name");
    EXPECT_EQ(get("/%3Cscript%3E%26.txt").body, "xss");
    EXPECT_EQ(get("/hello.txt?x=1#frag").body, "Hello, world!\n");
}

TEST_F(HttpStaticHandler, EmptyFileHasZeroLength) {
    Response r = get("/empty.txt");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-length"), "0");
    EXPECT_EQ(r.body, "");
}

TEST_F(HttpStaticHandler, HeadSendsTheSameHeadersAndNoBody) {
    Response g = get("/hello.txt");
    Response h = request("HEAD", "/hello.txt");
    EXPECT_EQ(h.status, 200);
    EXPECT_EQ(h.header("content-length"), "14");
    EXPECT_EQ(h.header("content-type"), g.header("content-type"));
    EXPECT_EQ(h.header("etag"), g.header("etag"));
    EXPECT_EQ(last_raw_.find("Hello"), std::string::npos);
    EXPECT_TRUE(last_raw_.ends_with("\r\n\r\n")) << last_raw_;
}

TEST_F(HttpStaticHandler, CacheControlOptionIsSent) {
    options_.set("cache_control", std::string("max-age=60"));
    EXPECT_EQ(get("/hello.txt").header("cache-control"), "max-age=60");
}

TEST_F(HttpStaticHandler, EtagOptionOffSendsNoEtag) {
    options_.set("etag", false);
    Response r = get("/hello.txt");
    EXPECT_EQ(r.status, 200);
    EXPECT_FALSE(r.has("etag"));
    EXPECT_TRUE(r.has("last-modified"));
}

TEST_F(HttpStaticHandler, MissingFileIs404AndFileWithSlashIs404) {
    EXPECT_EQ(get("/nope.txt").status, 404);
    EXPECT_EQ(get("/hello.txt/").status, 404);
    EXPECT_EQ(get("/hello.txt/x").status, 404);
    EXPECT_EQ(get("/" + std::string(300, 'a')).status, 404);
}

TEST_F(HttpStaticHandler, UnreadableFileIs403) {
    if (::geteuid() == 0) GTEST_SKIP() << "root reads everything";
    write(root_ / "locked.txt", "locked");
    fs::permissions(root_ / "locked.txt", fs::perms::none);
    EXPECT_EQ(get("/locked.txt").status, 403);
}

TEST_F(HttpStaticHandler, OtherMethodsAre501) {
    Response r = request("POST", "/hello.txt");
    EXPECT_EQ(r.status, 501);
    EXPECT_EQ(request("DELETE", "/hello.txt").status, 501);
}

// --- directories -------------------------------------------------------------------

TEST_F(HttpStaticHandler, ServesIndexHtmlThenIndexHtm) {
    Response r = get("/site/");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "<h1>site</h1>");
    EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
    EXPECT_EQ(get("/htm/").body, "htm index");
}

TEST_F(HttpStaticHandler, IndexOptionChoosesTheNames) {
    write(root_ / "site" / "home.txt", "home");
    options_.set("index", std::vector<std::string>{"missing.html", "home.txt"});
    EXPECT_EQ(get("/site/").body, "home");
}

TEST_F(HttpStaticHandler, DirectoryWithoutSlashRedirectsKeepingTheQuery) {
    Response r = get("/sub?a=1&b=%20");
    EXPECT_EQ(r.status, 301);
    EXPECT_EQ(r.header("location"), "/sub/?a=1&b=%20");
    EXPECT_EQ(r.header("content-length"), "0");
    EXPECT_EQ(get("/sub").header("location"), "/sub/");
}

TEST_F(HttpStaticHandler, RedirectLocationNeverStartsWithDoubleSlash) {
    for (const char* t : {"//sub", "///sub", "//sub?x", "/sub/..", "//sub/../sub"}) {
        Response r = get(t);
        ASSERT_EQ(r.status, 301) << t;
        std::string loc = r.header("location");
        EXPECT_FALSE(loc.starts_with("//")) << t << " -> " << loc;
        EXPECT_TRUE(loc.starts_with("/")) << t << " -> " << loc;
    }
    EXPECT_EQ(get("//sub?x").header("location"), "/sub/?x");
    EXPECT_EQ(get("/sub/..").header("location"), "/");
}

TEST_F(HttpStaticHandler, ListsADirectoryEscapingNames) {
    Response r = get("/");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
    EXPECT_EQ(r.header("content-length"), std::to_string(r.body.size()));
    EXPECT_NE(r.body.find("<title>Directory listing for /</title>"), std::string::npos);
    EXPECT_NE(r.body.find("<li><a href=\"%3Cscript%3E%26.txt\">&lt;script&gt;&amp;.txt</a></li>"),
              std::string::npos);
    EXPECT_EQ(r.body.find("<script>"), std::string::npos);
    EXPECT_NE(r.body.find("<li><a href=\"sub/\">sub/</a></li>"), std::string::npos);
    EXPECT_NE(r.body.find("<li><a href=\"inlink\">inlink@</a></li>"), std::string::npos);
    EXPECT_NE(r.body.find("<li><a href=\"caf%C3%A9.txt\">caf\xC3\xA9.txt</a></li>"), std::string::npos);
    // Sorted case-insensitively: app.js before caf... before digits.bin before hello.txt.
    EXPECT_LT(r.body.find("app.js"), r.body.find("digits.bin"));
    EXPECT_LT(r.body.find("digits.bin"), r.body.find("hello.txt"));
}

TEST_F(HttpStaticHandler, ListingTitleShowsTheEscapedPath) {
    write(root_ / "<b>" / "x.txt", "x");
    Response r = get("/%3Cb%3E/");
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("Directory listing for /&lt;b&gt;/"), std::string::npos);
    EXPECT_EQ(r.body.find("<b>"), std::string::npos);
}

TEST_F(HttpStaticHandler, ListingHidesDotfilesUnlessShown) {
    EXPECT_EQ(get("/").body.find(".env"), std::string::npos);
    EXPECT_EQ(get("/").body.find(".git"), std::string::npos);
    options_.set("show_dotfiles", true);
    EXPECT_NE(get("/").body.find(".env"), std::string::npos);
}

TEST_F(HttpStaticHandler, ListingDisabledIs403) {
    options_.set("listing", false);
    EXPECT_EQ(get("/sub/").status, 403);
    EXPECT_EQ(get("/site/").status, 200);   // an index file is still served
}

TEST_F(HttpStaticHandler, HeadOnAListingHasNoBody) {
    Response r = request("HEAD", "/");
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.header("content-length"), "0");
    EXPECT_TRUE(last_raw_.ends_with("\r\n\r\n"));
    EXPECT_EQ(last_raw_.find("<html"), std::string::npos);
}

// --- dotfiles -------------------------------------------------------------------------

TEST_F(HttpStaticHandler, DotfilesAreHiddenAs404) {
    EXPECT_EQ(get("/.env").status, 404);
    EXPECT_EQ(get("/.git/config").status, 404);
    EXPECT_EQ(get("/%2Eenv").status, 404);
    EXPECT_EQ(get("/sub/../.env").status, 404);
}

TEST_F(HttpStaticHandler, DotfilesAreServedWhenShown) {
    options_.set("show_dotfiles", true);
    EXPECT_EQ(get("/.env").body, "DOTFILE");
    EXPECT_EQ(get("/.git/config").body, "DOTDIR");
}

// --- containment -----------------------------------------------------------------------

TEST_F(HttpStaticHandler, NoTraversalEverReachesTheSecretBesideTheRoot) {
    const std::vector<std::string> attempts = {
        "/../secret",        "/%2e%2e/secret",      "/..%2fsecret",       "/%2e%2e%2fsecret",
        "/a/../../secret",   "/sub/../../secret",   "/%2E%2E/secret",     "/..%2Fsecret",
        "/.%2e/secret",      "/%2e./secret",        "/sub/%2e%2e/%2e%2e/secret",
        "//../secret",       "/..\\secret",         "/sub/..\\..\\secret", "/%5c..%5csecret",
        "/%00",              "/secret%00.txt",      "/../root/../secret", "/./../secret",
        "/outlink",          "/outdir/secret",      "/outdir/",           "/outdir",
        "http://test/../secret", "/" + (base_ / "secret").string(),     "//" + (base_ / "secret").string(),
        "/%2f" + (base_ / "secret").string(),
    };
    for (const std::string& t : attempts) {
        for (bool show : {false, true}) {
            options_.set("show_dotfiles", show);
            std::string raw = run_raw("GET " + t + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            EXPECT_EQ(raw.find(kSecret), std::string::npos) << t;
            auto rs = parse_responses(raw);
            ASSERT_EQ(rs.size(), 1u) << t << "\n" << raw;
            EXPECT_TRUE(rs[0].status == 400 || rs[0].status == 403 || rs[0].status == 404 ||
                        rs[0].status == 301)
                << t << " -> " << rs[0].status;
            if (rs[0].status == 301) {
                EXPECT_FALSE(rs[0].header("location").starts_with("//")) << t;
            }
        }
    }
}

TEST_F(HttpStaticHandler, AbsolutePathsResolveOnlyInsideTheRoot) {
    EXPECT_EQ(get("/etc/passwd").status, 404);
    EXPECT_EQ(get("//etc/passwd").status, 404);
    write(root_ / "etc" / "passwd", "docroot passwd");
    EXPECT_EQ(get("//etc/passwd").body, "docroot passwd");
    EXPECT_EQ(get("/etc/passwd").body, "docroot passwd");
}

TEST_F(HttpStaticHandler, EscapeAboveTheRootIs400) {
    EXPECT_EQ(get("/../secret").status, 400);
    EXPECT_EQ(get("/%2e%2e%2fsecret").status, 400);
    EXPECT_EQ(get("/%00").status, 400);
}

TEST_F(HttpStaticHandler, SymlinkOutsideIsRefusedInsideIsServed) {
    EXPECT_EQ(get("/outlink").status, 403);
    EXPECT_EQ(get("/outdir/secret").status, 403);
    EXPECT_EQ(get("/inlink").body, "Hello, world!\n");
}

TEST_F(HttpStaticHandler, SymlinkOutsideIsFollowedWhenAllowed) {
    options_.set("follow_symlinks", true);
    EXPECT_EQ(get("/outlink").body, kSecret);
    EXPECT_EQ(get("/outdir/secret").body, kSecret);
    // Lexical containment still holds: ".." cannot use the link's parent.
    EXPECT_EQ(get("/outdir/../secret").status, 404);
    EXPECT_EQ(get("/../secret").status, 400);
}

TEST_F(HttpStaticHandler, IndexSymlinkOutsideIsNotServed) {
    fs::create_directories(root_ / "trap");
    fs::create_symlink(base_ / "secret", root_ / "trap" / "index.html");
    Response r = get("/trap/");
    EXPECT_EQ(r.status, 200);   // the listing instead
    EXPECT_EQ(r.body.find(kSecret), std::string::npos);
}

TEST_F(HttpStaticHandler, FifoIsRefusedWithoutBlocking) {
    ASSERT_EQ(::mkfifo((root_ / "pipe").c_str(), 0644), 0);
    EXPECT_EQ(get("/pipe").status, 403);
}

// --- conditional requests ------------------------------------------------------------------

TEST_F(HttpStaticHandler, IfModifiedSinceGives304) {
    Response first = get("/hello.txt");
    Response r = get("/hello.txt", "If-Modified-Since: " + first.header("last-modified") + "\r\n");
    EXPECT_EQ(r.status, 304);
    EXPECT_EQ(r.body, "");
    EXPECT_EQ(r.header("etag"), first.header("etag"));
    EXPECT_FALSE(r.has("content-length") && r.header("content-length") != "0");
    EXPECT_EQ(get("/hello.txt", "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n").status, 200);
    EXPECT_EQ(get("/hello.txt", "If-Modified-Since: not a date\r\n").status, 200);
}

TEST_F(HttpStaticHandler, IfNoneMatchGives304AndTakesPrecedence) {
    Response first = get("/hello.txt");
    std::string etag = first.header("etag");
    EXPECT_EQ(get("/hello.txt", "If-None-Match: " + etag + "\r\n").status, 304);
    EXPECT_EQ(get("/hello.txt", "If-None-Match: \"x\", W/" + etag + "\r\n").status, 304);
    EXPECT_EQ(get("/hello.txt", "If-None-Match: *\r\n").status, 304);
    EXPECT_EQ(get("/hello.txt", "If-None-Match: \"other\"\r\n").status, 200);
    // RFC 9110 13.2.2: a non-matching If-None-Match makes If-Modified-Since moot.
    EXPECT_EQ(get("/hello.txt", "If-None-Match: \"other\"\r\nIf-Modified-Since: " +
                                    first.header("last-modified") + "\r\n")
                  .status,
              200);
    EXPECT_EQ(request("HEAD", "/hello.txt", "If-None-Match: " + etag + "\r\n").status, 304);
}

TEST_F(HttpStaticHandler, NotModifiedCarriesCacheControl) {
    options_.set("cache_control", std::string("no-cache"));
    std::string etag = get("/hello.txt").header("etag");
    Response r = get("/hello.txt", "If-None-Match: " + etag + "\r\n");
    EXPECT_EQ(r.status, 304);
    EXPECT_EQ(r.header("cache-control"), "no-cache");
}

TEST_F(HttpStaticHandler, IfMatchFailureIs412) {
    EXPECT_EQ(get("/hello.txt", "If-Match: \"other\"\r\n").status, 412);
    std::string etag = get("/hello.txt").header("etag");
    EXPECT_EQ(get("/hello.txt", "If-Match: " + etag + "\r\n").status, 200);
}

// --- ranges --------------------------------------------------------------------------------------

TEST_F(HttpStaticHandler, SingleRangeIs206) {
    Response r = get("/digits.bin", "Range: bytes=2-5\r\n");
    EXPECT_EQ(r.status, 206);
    EXPECT_EQ(r.body, "2345");
    EXPECT_EQ(r.header("content-range"), "bytes 2-5/10");
    EXPECT_EQ(r.header("content-length"), "4");
    EXPECT_EQ(get("/digits.bin", "Range: bytes=7-\r\n").body, "789");
    EXPECT_EQ(get("/digits.bin", "Range: bytes=-3\r\n").body, "789");
    EXPECT_EQ(get("/digits.bin", "Range: bytes=8-1000\r\n").header("content-range"), "bytes 8-9/10");
}

TEST_F(HttpStaticHandler, UnsatisfiableRangeIs416WithStarContentRange) {
    Response r = get("/digits.bin", "Range: bytes=10-\r\n");
    EXPECT_EQ(r.status, 416);
    EXPECT_EQ(r.header("content-range"), "bytes */10");
    EXPECT_EQ(r.body.find("0123"), std::string::npos);
    EXPECT_EQ(get("/empty.txt", "Range: bytes=0-\r\n").status, 416);
}

TEST_F(HttpStaticHandler, MalformedRangeIsIgnored) {
    Response r = get("/digits.bin", "Range: bytes=5-2\r\n");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "0123456789");
    EXPECT_EQ(get("/digits.bin", "Range: lines=1-2\r\n").status, 200);
}

TEST_F(HttpStaticHandler, MultipleRangesAreMultipartByteranges) {
    Response r = get("/digits.bin", "Range: bytes=0-1, 5-6\r\n");
    EXPECT_EQ(r.status, 206);
    std::string ct = r.header("content-type");
    ASSERT_TRUE(ct.starts_with("multipart/byteranges; boundary=")) << ct;
    std::string boundary = ct.substr(ct.find('=') + 1);
    EXPECT_EQ(r.header("content-length"), std::to_string(r.body.size()));
    std::string expected = "\r\n--" + boundary +
                           "\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 0-1/10\r\n\r\n01"
                           "\r\n--" + boundary +
                           "\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 5-6/10\r\n\r\n56"
                           "\r\n--" + boundary + "--\r\n";
    EXPECT_EQ(r.body, expected);
}

TEST_F(HttpStaticHandler, IfRangeDecidesBetweenPartAndWhole) {
    Response first = get("/digits.bin");
    std::string etag = first.header("etag");
    EXPECT_EQ(get("/digits.bin", "Range: bytes=0-0\r\nIf-Range: " + etag + "\r\n").status, 206);
    EXPECT_EQ(get("/digits.bin", "Range: bytes=0-0\r\nIf-Range: \"stale\"\r\n").status, 200);
    EXPECT_EQ(get("/digits.bin", "Range: bytes=0-0\r\nIf-Range: " + first.header("last-modified") + "\r\n")
                  .status,
              206);
    EXPECT_EQ(get("/digits.bin", "Range: bytes=0-0\r\nIf-Range: Sun, 06 Nov 1994 08:49:37 GMT\r\n").status,
              200);
}

TEST_F(HttpStaticHandler, HeadIgnoresRange) {
    Response r = request("HEAD", "/digits.bin", "Range: bytes=0-1\r\n");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-length"), "10");
}

// --- keep-alive --------------------------------------------------------------------------------

TEST_F(HttpStaticHandler, PipelinedRequestsAreAnsweredInOrder) {
    std::string raw = run_raw(
        "GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"
        "HEAD /digits.bin HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /digits.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=-2\r\n\r\n"
        "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    std::string_view rest = raw;
    Response a = parse_one(rest), b = parse_one(rest, /*head=*/true), c = parse_one(rest), d = parse_one(rest);
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.body, "Hello, world!\n");
    EXPECT_EQ(b.status, 200);
    EXPECT_EQ(b.header("content-length"), "10");
    EXPECT_EQ(c.status, 206);
    EXPECT_EQ(c.body, "89");
    EXPECT_EQ(d.status, 404);
    EXPECT_TRUE(rest.empty()) << rest;
}

// --- options ---------------------------------------------------------------------------------------

TEST(HttpStaticOptions, DefaultsMatchTheDocumentation) {
    files::Config c = files::Config::from_options(sdk::Options{});
    EXPECT_EQ(c.directory, fs::canonical("."));
    EXPECT_EQ(c.index, (std::vector<std::string>{"index.html", "index.htm"}));
    EXPECT_TRUE(c.listing);
    EXPECT_FALSE(c.follow_symlinks);
    EXPECT_FALSE(c.show_dotfiles);
    EXPECT_TRUE(c.etag);
    EXPECT_FALSE(c.cache_control);
}

using hs::testing::option_error_key;

TEST(HttpStaticOptions, RejectsBadDirectories) {
    EXPECT_EQ(option_error_key({{"directory", std::string("/nonexistent/dir")}}), "directory");
    EXPECT_EQ(option_error_key({{"directory", std::string("/etc/hostname")}}), "directory");
    EXPECT_EQ(option_error_key({{"directory", std::string("")}}), "directory");
    EXPECT_EQ(option_error_key({{"directory", true}}), "directory");
    EXPECT_EQ(option_error_key({{"directory", std::string("/tmp")}}), "");
}

TEST(HttpStaticOptions, RejectsBadValues) {
    EXPECT_EQ(option_error_key({{"index", std::vector<std::string>{"a/b"}}}), "index");
    EXPECT_EQ(option_error_key({{"index", std::vector<std::string>{".."}}}), "index");
    EXPECT_EQ(option_error_key({{"index", std::string("index.html")}}), "index");
    EXPECT_EQ(option_error_key({{"listing", std::string("yes")}}), "listing");
    EXPECT_EQ(option_error_key({{"etag", std::int64_t{1}}}), "etag");
    EXPECT_EQ(option_error_key({{"cache_control", std::string("a\r\nSet-Cookie: x")}}), "cache_control");
    EXPECT_EQ(option_error_key({{"cache_control", std::string("")}}), "cache_control");
}

TEST(HttpStaticOptions, RejectsUnknownKeysButAcceptsHttpLimits) {
    EXPECT_EQ(option_error_key({{"directroy", std::string(".")}}), "directroy");
    EXPECT_EQ(option_error_key({{"keepalive_timeout", 5.0}}), "");
}

TEST(HttpStaticOptions, FactoryServesStreamOnly) {
    sdk::HandlerFactory f = hs::make_factory(sdk::Options{});
    EXPECT_NE(f(sdk::Transport::stream), nullptr);
    EXPECT_EQ(f(sdk::Transport::datagram), nullptr);
}

}  // namespace
