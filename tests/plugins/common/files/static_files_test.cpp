// SPDX-License-Identifier: MIT
// http_static's pure functions: target mapping, containment, MIME types,
// listing HTML.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "files/static_files.hpp"

namespace files = sockhost::plugins::files;
namespace fs = std::filesystem;

namespace {

// --- percent_decode / percent_encode_path ----------------------------------------

TEST(PercentDecode, DecodesEscapesAndUtf8) {
    EXPECT_EQ(files::percent_decode("/a%20b"), "/a b");
    EXPECT_EQ(files::percent_decode("%C3%A9t%c3%a9"), "\xC3\xA9t\xC3\xA9");
    EXPECT_EQ(files::percent_decode("a+b"), "a+b");
    EXPECT_EQ(files::percent_decode(""), "");
}

TEST(PercentDecode, RejectsTruncatedOrNonHexEscapes) {
    EXPECT_FALSE(files::percent_decode("%"));
    EXPECT_FALSE(files::percent_decode("%2"));
    EXPECT_FALSE(files::percent_decode("a%zz"));
    EXPECT_FALSE(files::percent_decode("%%41"));
}

TEST(PercentEncodePath, QuotesLikePythonWithSlashSafe) {
    EXPECT_EQ(files::percent_encode_path("a b/c"), "a%20b/c");
    EXPECT_EQ(files::percent_encode_path("<script>&.txt"), "%3Cscript%3E%26.txt");
    EXPECT_EQ(files::percent_encode_path("a-b_c.d~e"), "a-b_c.d~e");
    EXPECT_EQ(files::percent_encode_path("\xC3\xA9"), "%C3%A9");
    EXPECT_EQ(files::percent_encode_path("\"x\":?#"), "%22x%22%3A%3F%23");
}

// --- parse_target -------------------------------------------------------------

files::TargetResult target(std::string_view t, bool dot = false) { return files::parse_target(t, dot); }

TEST(ParseTarget, SplitsQueryAndFragmentBeforeDecoding) {
    auto r = target("/a%3Fb/c.txt?x=1&y=%2F#frag?z");
    ASSERT_EQ(r.status, 0);
    EXPECT_EQ(r.url.segments, (std::vector<std::string>{"a?b", "c.txt"}));
    EXPECT_EQ(r.url.path, "/a?b/c.txt");
    EXPECT_TRUE(r.url.has_query);
    EXPECT_EQ(r.url.query, "x=1&y=%2F");
    EXPECT_FALSE(r.url.trailing_slash);
}

TEST(ParseTarget, RootAndTrailingSlash) {
    auto r = target("/");
    ASSERT_EQ(r.status, 0);
    EXPECT_TRUE(r.url.segments.empty());
    EXPECT_EQ(r.url.path, "/");
    EXPECT_TRUE(r.url.trailing_slash);
    auto d = target("/docs/");
    EXPECT_TRUE(d.url.trailing_slash);
    EXPECT_EQ(d.url.path, "/docs");
    EXPECT_FALSE(target("/docs?x").url.trailing_slash);
    EXPECT_TRUE(target("/docs?x").url.has_query);
    EXPECT_FALSE(target("/docs").url.has_query);
}

TEST(ParseTarget, CollapsesRepeatedSlashesAndDotSegments) {
    auto r = target("//a///./b/../c//");
    ASSERT_EQ(r.status, 0);
    EXPECT_EQ(r.url.segments, (std::vector<std::string>{"a", "c"}));
    EXPECT_EQ(r.url.path, "/a/c");
    EXPECT_TRUE(r.url.trailing_slash);
}

TEST(ParseTarget, ProtocolRelativeFormsStayInsideTheRoot) {
    auto r = target("//etc/passwd");
    ASSERT_EQ(r.status, 0);
    EXPECT_EQ(r.url.segments, (std::vector<std::string>{"etc", "passwd"}));
    EXPECT_EQ(r.url.path, "/etc/passwd");
    auto h = target("//evil.example.com/%2e%2e");
    ASSERT_EQ(h.status, 0);
    EXPECT_EQ(h.url.path, "/");
}

TEST(ParseTarget, RejectsEveryEscapeAboveTheRoot) {
    for (const char* t : {"/..", "/../secret", "/%2e%2e/secret", "/%2E%2E/secret", "/..%2fsecret",
                          "/%2e%2e%2fsecret", "/a/../../secret", "/a/%2e%2e/%2e%2e/secret",
                          "/./../secret", "/a%2f..%2f..%2fsecret", "/.%2e/secret"}) {
        EXPECT_EQ(target(t).status, 400) << t;
        EXPECT_EQ(target(t, true).status, 400) << t;
    }
}

TEST(ParseTarget, DotDotInsideTheRootIsResolvedLexically) {
    auto r = target("/a/b/../../c");
    ASSERT_EQ(r.status, 0);
    EXPECT_EQ(r.url.segments, (std::vector<std::string>{"c"}));
    auto e = target("/a/..");
    ASSERT_EQ(e.status, 0);
    EXPECT_TRUE(e.url.segments.empty());
}

TEST(ParseTarget, RejectsNulRawOrEncoded) {
    EXPECT_EQ(target("/%00").status, 400);
    EXPECT_EQ(target("/a%00.txt").status, 400);
    EXPECT_EQ(target(std::string_view("/a\0b", 4)).status, 400);
}

TEST(ParseTarget, RejectsMalformedEscapesAndNonOriginTargets) {
    EXPECT_EQ(target("/a%2").status, 400);
    EXPECT_EQ(target("/a%g0").status, 400);
    EXPECT_EQ(target("*").status, 400);
    EXPECT_EQ(target("").status, 400);
    EXPECT_EQ(target("a/b").status, 400);
    EXPECT_EQ(target("ftp://host/x").status, 400);
}

TEST(ParseTarget, AcceptsAbsoluteFormAndDropsTheAuthority) {
    auto r = target("http://example.com/a/b?q");
    ASSERT_EQ(r.status, 0);
    EXPECT_EQ(r.url.path, "/a/b");
    EXPECT_EQ(r.url.query, "q");
    auto root = target("HTTP://example.com");
    ASSERT_EQ(root.status, 0);
    EXPECT_EQ(root.url.path, "/");
    auto q = target("http://example.com?x=1");
    ASSERT_EQ(q.status, 0);
    EXPECT_EQ(q.url.path, "/");
    EXPECT_EQ(q.url.query, "x=1");
    EXPECT_EQ(target("http://example.com/../secret").status, 400);
}

TEST(ParseTarget, BackslashIsAnOrdinaryNameByte) {
    auto r = target("/a\\b");
    ASSERT_EQ(r.status, 0);
    EXPECT_EQ(r.url.segments, (std::vector<std::string>{"a\\b"}));
    // "..\secret" is one segment, a dotfile name: hidden, never a parent.
    EXPECT_EQ(target("/..\\secret").status, 404);
    auto shown = target("/..\\secret", true);
    ASSERT_EQ(shown.status, 0);
    EXPECT_EQ(shown.url.segments, (std::vector<std::string>{"..\\secret"}));
    EXPECT_EQ(target("/%5c..%5csecret", true).url.segments, (std::vector<std::string>{"\\..\\secret"}));
}

TEST(ParseTarget, HidesDotfilesUnlessShown) {
    EXPECT_EQ(target("/.env").status, 404);
    EXPECT_EQ(target("/.git/config").status, 404);
    EXPECT_EQ(target("/a/.hidden/b").status, 404);
    EXPECT_EQ(target("/%2egit/config").status, 404);
    EXPECT_EQ(target("/.env", true).status, 0);
    EXPECT_EQ(target("/a.b/c.").status, 0);
}

TEST(ParseTarget, KeepsUtf8Names) {
    auto r = target("/caf%C3%A9/%E6%97%A5%E6%9C%AC.txt");
    ASSERT_EQ(r.status, 0);
    EXPECT_EQ(r.url.segments, (std::vector<std::string>{"caf\xC3\xA9", "\xE6\x97\xA5\xE6\x9C\xAC.txt"}));
}

// --- join / is_within / resolve_within / status_for_errno ------------------------

TEST(Containment, IsWithinComparesWholeComponents) {
    EXPECT_TRUE(files::is_within("/srv/www", "/srv/www"));
    EXPECT_TRUE(files::is_within("/srv/www", "/srv/www/a/b"));
    EXPECT_TRUE(files::is_within("/srv/www/", "/srv/www/a"));
    EXPECT_FALSE(files::is_within("/srv/www", "/srv/www2/a"));
    EXPECT_FALSE(files::is_within("/srv/www", "/srv"));
    EXPECT_FALSE(files::is_within("/srv/www", "/etc/passwd"));
    EXPECT_TRUE(files::is_within("/", "/etc"));
}

TEST(Containment, JoinSegmentsIsLexical) {
    EXPECT_EQ(files::join_segments("/r", {"a", "b c"}), fs::path("/r/a/b c"));
    EXPECT_EQ(files::join_segments("/r", {}), fs::path("/r"));
    EXPECT_EQ(files::join_segments_native("/r", {"a", "b c"}), "/r/a/b c");
    EXPECT_EQ(files::join_segments_native("/r/", {"a"}), "/r/a");
    EXPECT_EQ(files::join_segments_native("/", {"a", "b"}), "/a/b");
    EXPECT_EQ(files::join_segments_native("/r", {}), "/r");
}

class ResolveWithin : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/hs_resolveXXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        base_ = fs::canonical(tmpl);
        root_ = base_ / "root";
        fs::create_directories(root_ / "sub");
        std::ofstream(root_ / "sub" / "f.txt") << "x";
        std::ofstream(base_ / "secret") << "secret";
        fs::create_symlink(base_ / "secret", root_ / "out");
        fs::create_symlink("sub/f.txt", root_ / "in");
    }
    void TearDown() override { fs::remove_all(base_); }
    fs::path base_, root_;
};

TEST_F(ResolveWithin, AcceptsFilesAndInsideSymlinks) {
    fs::path resolved;
    EXPECT_EQ(files::resolve_within(root_, root_ / "sub" / "f.txt", resolved), 0);
    EXPECT_EQ(resolved, root_ / "sub" / "f.txt");
    EXPECT_EQ(files::resolve_within(root_, root_ / "in", resolved), 0);
    EXPECT_EQ(resolved, root_ / "sub" / "f.txt");
    EXPECT_EQ(files::resolve_within(root_, root_, resolved), 0);
}

TEST_F(ResolveWithin, RefusesSymlinksLeavingTheRoot) {
    fs::path resolved = "unchanged";
    EXPECT_EQ(files::resolve_within(root_, root_ / "out", resolved), EXDEV);
    EXPECT_EQ(resolved, fs::path("unchanged"));
    EXPECT_EQ(files::status_for_errno(EXDEV), 403);
}

TEST_F(ResolveWithin, ReportsErrnoForMissingPaths) {
    fs::path resolved;
    EXPECT_EQ(files::resolve_within(root_, root_ / "nope", resolved), ENOENT);
    EXPECT_EQ(files::resolve_within(root_, root_ / "sub" / "f.txt" / "x", resolved), ENOTDIR);
}

TEST(StatusForErrno, MapsTheUsualErrors) {
    EXPECT_EQ(files::status_for_errno(ENOENT), 404);
    EXPECT_EQ(files::status_for_errno(ENOTDIR), 404);
    EXPECT_EQ(files::status_for_errno(ENAMETOOLONG), 404);
    EXPECT_EQ(files::status_for_errno(ELOOP), 404);
    EXPECT_EQ(files::status_for_errno(EACCES), 403);
    EXPECT_EQ(files::status_for_errno(EPERM), 403);
    EXPECT_EQ(files::status_for_errno(EIO), 500);
    EXPECT_EQ(files::status_for_errno(EMFILE), 500);
}

// --- MIME types ----------------------------------------------------------------

TEST(MimeTypes, ParsesMimeTypesTextAndLowercasesExtensions) {
    auto m = files::MimeTypes::from_text(
        "# comment\n"
        "text/x-foo   foo FOO2 # trailing comment\n"
        "application/x-empty\n"
        "nonsense line\n"
        "image/x-bar bar\n",
        /*with_defaults=*/false);
    EXPECT_EQ(m.lookup("a.foo"), "text/x-foo");
    EXPECT_EQ(m.lookup("A.FOO"), "text/x-foo");
    EXPECT_EQ(m.lookup("b.foo2"), "text/x-foo");
    EXPECT_EQ(m.lookup("dir.d/c.bar"), "image/x-bar");
    EXPECT_EQ(m.lookup("line"), "application/octet-stream");
    EXPECT_EQ(m.lookup("noext"), "application/octet-stream");
    EXPECT_EQ(m.lookup("dot."), "application/octet-stream");
    EXPECT_EQ(m.lookup("dir.bar/noext"), "application/octet-stream");
}

TEST(MimeTypes, FileOverridesDefaultsAndLaterLinesWin) {
    auto m = files::MimeTypes::from_text("text/x-html html\ntext/x-two two\ntext/x-second two\n");
    EXPECT_EQ(m.lookup("a.html"), "text/x-html");
    EXPECT_EQ(m.lookup("a.two"), "text/x-second");
    EXPECT_EQ(m.lookup("a.png"), "image/png");     // default kept
    EXPECT_EQ(m.lookup("a.gz"), "application/gzip");   // Python handler's override
}

TEST(MimeTypes, AddsUtf8CharsetToTextJavascriptAndJson) {
    auto m = files::MimeTypes::from_text(
        "text/html html\napplication/javascript js\napplication/json json\nimage/png png\n", false);
    EXPECT_EQ(m.content_type("a.html"), "text/html; charset=utf-8");
    EXPECT_EQ(m.content_type("a.js"), "application/javascript; charset=utf-8");
    EXPECT_EQ(m.content_type("a.json"), "application/json; charset=utf-8");
    EXPECT_EQ(m.content_type("a.png"), "image/png");
    EXPECT_EQ(m.content_type("a.bin"), "application/octet-stream");
}

TEST(MimeTypes, SystemTableIsLoadedOnceAndKnowsCommonTypes) {
    const files::MimeTypes& a = files::MimeTypes::system();
    const files::MimeTypes& b = files::MimeTypes::system();
    EXPECT_EQ(&a, &b);
    EXPECT_EQ(a.lookup("index.html"), "text/html");
    EXPECT_EQ(a.lookup("x.PNG"), "image/png");
    EXPECT_EQ(a.lookup("x.css"), "text/css");
    EXPECT_EQ(a.content_type("x.txt"), "text/plain; charset=utf-8");
    EXPECT_EQ(a.lookup("x.unknownext"), "application/octet-stream");
}

// --- listing ------------------------------------------------------------------------

TEST(Listing, SortsCaseInsensitivelyLikePython) {
    std::vector<files::ListingEntry> e{{"b"}, {"A"}, {"a"}, {"C"}, {"_x"}};
    files::sort_listing(e);
    std::vector<std::string> names;
    for (auto& x : e) names.push_back(x.name);
    EXPECT_EQ(names, (std::vector<std::string>{"_x", "A", "a", "b", "C"}));   // "_" < "a", as in Python
}

TEST(Listing, EscapesNamesQuotesLinksAndMarksDirsAndLinks) {
    std::string html = files::render_listing(
        "/<dir>&/", {{"<script>&.txt"}, {"sub dir", true}, {"link", false, true}, {"dl", true, true}});
    EXPECT_NE(html.find("<title>Directory listing for /&lt;dir&gt;&amp;/</title>"), std::string::npos);
    EXPECT_NE(html.find("<h1>Directory listing for /&lt;dir&gt;&amp;/</h1>"), std::string::npos);
    EXPECT_NE(html.find("<li><a href=\"%3Cscript%3E%26.txt\">&lt;script&gt;&amp;.txt</a></li>"),
              std::string::npos);
    EXPECT_NE(html.find("<li><a href=\"sub%20dir/\">sub dir/</a></li>"), std::string::npos);
    EXPECT_NE(html.find("<li><a href=\"link\">link@</a></li>"), std::string::npos);
    EXPECT_NE(html.find("<li><a href=\"dl/\">dl@</a></li>"), std::string::npos);
    EXPECT_NE(html.find("<meta charset=\"utf-8\">"), std::string::npos);
    EXPECT_EQ(html.find("<script>"), std::string::npos);
    EXPECT_TRUE(html.starts_with("<!DOCTYPE HTML>"));
}

TEST(Listing, NameWithColonStaysARelativeLink) {
    std::string html = files::render_listing("/", {{"javascript:alert(1)"}});
    EXPECT_NE(html.find("href=\"javascript%3Aalert%281%29\""), std::string::npos);
}

}  // namespace
