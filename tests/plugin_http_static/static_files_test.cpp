// SPDX-License-Identifier: MIT
// http_static's pure functions: target mapping, containment, MIME types,
// validators, preconditions, ranges, listing HTML.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "http_static/static_files.hpp"

namespace hs = sockhost::plugins::http_static;
namespace fs = std::filesystem;

namespace {

using Kind = hs::RangeResult::Kind;

// --- percent_decode / percent_encode_path / html_escape -----------------------

TEST(PercentDecode, DecodesEscapesAndUtf8) {
    EXPECT_EQ(hs::percent_decode("/a%20b"), "/a b");
    EXPECT_EQ(hs::percent_decode("%C3%A9t%c3%a9"), "\xC3\xA9t\xC3\xA9");
    EXPECT_EQ(hs::percent_decode("a+b"), "a+b");
    EXPECT_EQ(hs::percent_decode(""), "");
}

TEST(PercentDecode, RejectsTruncatedOrNonHexEscapes) {
    EXPECT_FALSE(hs::percent_decode("%"));
    EXPECT_FALSE(hs::percent_decode("%2"));
    EXPECT_FALSE(hs::percent_decode("a%zz"));
    EXPECT_FALSE(hs::percent_decode("%%41"));
}

TEST(PercentEncodePath, QuotesLikePythonWithSlashSafe) {
    EXPECT_EQ(hs::percent_encode_path("a b/c"), "a%20b/c");
    EXPECT_EQ(hs::percent_encode_path("<script>&.txt"), "%3Cscript%3E%26.txt");
    EXPECT_EQ(hs::percent_encode_path("a-b_c.d~e"), "a-b_c.d~e");
    EXPECT_EQ(hs::percent_encode_path("\xC3\xA9"), "%C3%A9");
    EXPECT_EQ(hs::percent_encode_path("\"x\":?#"), "%22x%22%3A%3F%23");
}

TEST(HtmlEscape, EscapesTheFiveSpecialCharacters) {
    EXPECT_EQ(hs::html_escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;");
    EXPECT_EQ(hs::html_escape("plain"), "plain");
}

// --- parse_target -------------------------------------------------------------

hs::TargetResult target(std::string_view t, bool dot = false) { return hs::parse_target(t, dot); }

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
    EXPECT_TRUE(hs::is_within("/srv/www", "/srv/www"));
    EXPECT_TRUE(hs::is_within("/srv/www", "/srv/www/a/b"));
    EXPECT_TRUE(hs::is_within("/srv/www/", "/srv/www/a"));
    EXPECT_FALSE(hs::is_within("/srv/www", "/srv/www2/a"));
    EXPECT_FALSE(hs::is_within("/srv/www", "/srv"));
    EXPECT_FALSE(hs::is_within("/srv/www", "/etc/passwd"));
    EXPECT_TRUE(hs::is_within("/", "/etc"));
}

TEST(Containment, JoinSegmentsIsLexical) {
    EXPECT_EQ(hs::join_segments("/r", {"a", "b c"}), fs::path("/r/a/b c"));
    EXPECT_EQ(hs::join_segments("/r", {}), fs::path("/r"));
    EXPECT_EQ(hs::join_segments_native("/r", {"a", "b c"}), "/r/a/b c");
    EXPECT_EQ(hs::join_segments_native("/r/", {"a"}), "/r/a");
    EXPECT_EQ(hs::join_segments_native("/", {"a", "b"}), "/a/b");
    EXPECT_EQ(hs::join_segments_native("/r", {}), "/r");
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
    EXPECT_EQ(hs::resolve_within(root_, root_ / "sub" / "f.txt", resolved), 0);
    EXPECT_EQ(resolved, root_ / "sub" / "f.txt");
    EXPECT_EQ(hs::resolve_within(root_, root_ / "in", resolved), 0);
    EXPECT_EQ(resolved, root_ / "sub" / "f.txt");
    EXPECT_EQ(hs::resolve_within(root_, root_, resolved), 0);
}

TEST_F(ResolveWithin, RefusesSymlinksLeavingTheRoot) {
    fs::path resolved = "unchanged";
    EXPECT_EQ(hs::resolve_within(root_, root_ / "out", resolved), EXDEV);
    EXPECT_EQ(resolved, fs::path("unchanged"));
    EXPECT_EQ(hs::status_for_errno(EXDEV), 403);
}

TEST_F(ResolveWithin, ReportsErrnoForMissingPaths) {
    fs::path resolved;
    EXPECT_EQ(hs::resolve_within(root_, root_ / "nope", resolved), ENOENT);
    EXPECT_EQ(hs::resolve_within(root_, root_ / "sub" / "f.txt" / "x", resolved), ENOTDIR);
}

TEST(StatusForErrno, MapsTheUsualErrors) {
    EXPECT_EQ(hs::status_for_errno(ENOENT), 404);
    EXPECT_EQ(hs::status_for_errno(ENOTDIR), 404);
    EXPECT_EQ(hs::status_for_errno(ENAMETOOLONG), 404);
    EXPECT_EQ(hs::status_for_errno(ELOOP), 404);
    EXPECT_EQ(hs::status_for_errno(EACCES), 403);
    EXPECT_EQ(hs::status_for_errno(EPERM), 403);
    EXPECT_EQ(hs::status_for_errno(EIO), 500);
    EXPECT_EQ(hs::status_for_errno(EMFILE), 500);
}

// --- MIME types ----------------------------------------------------------------

TEST(MimeTypes, ParsesMimeTypesTextAndLowercasesExtensions) {
    auto m = hs::MimeTypes::from_text(
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
    auto m = hs::MimeTypes::from_text("text/x-html html\ntext/x-two two\ntext/x-second two\n");
    EXPECT_EQ(m.lookup("a.html"), "text/x-html");
    EXPECT_EQ(m.lookup("a.two"), "text/x-second");
    EXPECT_EQ(m.lookup("a.png"), "image/png");     // default kept
    EXPECT_EQ(m.lookup("a.gz"), "application/gzip");   // Python handler's override
}

TEST(MimeTypes, AddsUtf8CharsetToTextJavascriptAndJson) {
    auto m = hs::MimeTypes::from_text(
        "text/html html\napplication/javascript js\napplication/json json\nimage/png png\n", false);
    EXPECT_EQ(m.content_type("a.html"), "text/html; charset=utf-8");
    EXPECT_EQ(m.content_type("a.js"), "application/javascript; charset=utf-8");
    EXPECT_EQ(m.content_type("a.json"), "application/json; charset=utf-8");
    EXPECT_EQ(m.content_type("a.png"), "image/png");
    EXPECT_EQ(m.content_type("a.bin"), "application/octet-stream");
}

TEST(MimeTypes, SystemTableIsLoadedOnceAndKnowsCommonTypes) {
    const hs::MimeTypes& a = hs::MimeTypes::system();
    const hs::MimeTypes& b = hs::MimeTypes::system();
    EXPECT_EQ(&a, &b);
    EXPECT_EQ(a.lookup("index.html"), "text/html");
    EXPECT_EQ(a.lookup("x.PNG"), "image/png");
    EXPECT_EQ(a.lookup("x.css"), "text/css");
    EXPECT_EQ(a.content_type("x.txt"), "text/plain; charset=utf-8");
    EXPECT_EQ(a.lookup("x.unknownext"), "application/octet-stream");
}

// --- dates, ETags, preconditions -------------------------------------------------

TEST(HttpDate, ParsesTheThreeFormatsOfRfc9110) {
    constexpr std::int64_t t = 784111777;   // Sun, 06 Nov 1994 08:49:37 GMT
    EXPECT_EQ(hs::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), t);
    EXPECT_EQ(hs::parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), t);
    EXPECT_EQ(hs::parse_http_date("Sun Nov  6 08:49:37 1994"), t);
    EXPECT_EQ(hs::parse_http_date("  Sun, 06 Nov 1994 08:49:37 GMT "), t);
}

TEST(HttpDate, RejectsMalformedDates) {
    for (const char* d : {"", "yesterday", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Foo 1994 08:49:37 GMT",
                          "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT",
                          "Sun, 00 Nov 1994 08:49:37 GMT", "1994-11-06T08:49:37Z"})
        EXPECT_FALSE(hs::parse_http_date(d)) << d;
}

TEST(ETag, IsStrongAndChangesWithSizeMtimeAndInode) {
    struct stat st {};
    st.st_ino = 0x10;
    st.st_size = 0x20;
    st.st_mtim.tv_sec = 1;
    st.st_mtim.tv_nsec = 5;
    std::string tag = hs::make_etag(st);
    EXPECT_EQ(tag, "\"10-20-3b9aca05\"");
    auto parsed = hs::parse_etag(tag);
    ASSERT_TRUE(parsed);
    EXPECT_FALSE(parsed->weak);
    st.st_size = 0x21;
    EXPECT_NE(hs::make_etag(st), tag);
}

TEST(ETag, ParsesWeakAndStrongAndRejectsJunk) {
    EXPECT_TRUE(hs::parse_etag("W/\"a\"")->weak);
    EXPECT_EQ(hs::parse_etag("W/\"a\"")->opaque, "\"a\"");
    EXPECT_FALSE(hs::parse_etag("\"\"")->weak);
    EXPECT_FALSE(hs::parse_etag("a"));
    EXPECT_FALSE(hs::parse_etag("\"a"));
    EXPECT_FALSE(hs::parse_etag("\"a\"b\""));
    EXPECT_FALSE(hs::parse_etag("w/\"a\""));
}

TEST(ETag, WeakAndStrongComparisonFollowRfc9110Table) {
    // RFC 9110 8.8.3.2's example table.
    auto w1 = *hs::parse_etag("W/\"1\""), w2 = *hs::parse_etag("W/\"2\""), s1 = *hs::parse_etag("\"1\"");
    EXPECT_FALSE(hs::strong_match(w1, w1));
    EXPECT_TRUE(hs::weak_match(w1, w1));
    EXPECT_FALSE(hs::strong_match(w1, w2));
    EXPECT_FALSE(hs::weak_match(w1, w2));
    EXPECT_FALSE(hs::strong_match(w1, s1));
    EXPECT_TRUE(hs::weak_match(w1, s1));
    EXPECT_TRUE(hs::strong_match(s1, s1));
}

TEST(ETag, ListMatchingHandlesStarListsAndWeakness) {
    std::optional<std::string> tag = "\"abc\"";
    EXPECT_TRUE(hs::etag_list_matches("*", tag, true));
    EXPECT_TRUE(hs::etag_list_matches("*", std::nullopt, true));
    EXPECT_TRUE(hs::etag_list_matches("\"x\", \"abc\"", tag, true));
    EXPECT_TRUE(hs::etag_list_matches("\"x\",W/\"abc\"", tag, true));
    EXPECT_FALSE(hs::etag_list_matches("W/\"abc\"", tag, false));
    EXPECT_TRUE(hs::etag_list_matches(" \"abc\" ", tag, false));
    EXPECT_FALSE(hs::etag_list_matches("\"abcd\"", tag, true));
    EXPECT_FALSE(hs::etag_list_matches("abc", tag, true));
    EXPECT_FALSE(hs::etag_list_matches("\"abc\"", std::nullopt, true));
}

class Preconditions : public ::testing::Test {
protected:
    std::optional<std::string> etag = "\"v1\"";
    std::int64_t mtime = 784111777;
    const std::string at = "Sun, 06 Nov 1994 08:49:37 GMT";
    const std::string before = "Sun, 06 Nov 1994 08:49:36 GMT";
    const std::string after = "Sun, 06 Nov 1994 08:49:38 GMT";
    hs::Precondition eval(hs::ConditionalHeaders h) { return hs::evaluate_preconditions(h, etag, mtime); }
};

TEST_F(Preconditions, NoConditionsProceed) { EXPECT_EQ(eval({}), hs::Precondition::proceed); }

TEST_F(Preconditions, IfModifiedSinceGives304WhenNotNewer) {
    EXPECT_EQ(eval({.if_modified_since = at}), hs::Precondition::not_modified);
    EXPECT_EQ(eval({.if_modified_since = after}), hs::Precondition::not_modified);
    EXPECT_EQ(eval({.if_modified_since = before}), hs::Precondition::proceed);
    EXPECT_EQ(eval({.if_modified_since = "garbage"}), hs::Precondition::proceed);
}

TEST_F(Preconditions, IfNoneMatchGives304OnWeakMatch) {
    EXPECT_EQ(eval({.if_none_match = "\"v1\""}), hs::Precondition::not_modified);
    EXPECT_EQ(eval({.if_none_match = "W/\"v1\""}), hs::Precondition::not_modified);
    EXPECT_EQ(eval({.if_none_match = "\"v0\", \"v1\""}), hs::Precondition::not_modified);
    EXPECT_EQ(eval({.if_none_match = "*"}), hs::Precondition::not_modified);
    EXPECT_EQ(eval({.if_none_match = "\"v0\""}), hs::Precondition::proceed);
}

TEST_F(Preconditions, IfNoneMatchTakesPrecedenceOverIfModifiedSince) {
    // RFC 9110 13.2.2: If-Modified-Since is ignored when If-None-Match is present.
    EXPECT_EQ(eval({.if_none_match = "\"v0\"", .if_modified_since = after}), hs::Precondition::proceed);
    EXPECT_EQ(eval({.if_none_match = "\"v1\"", .if_modified_since = before}),
              hs::Precondition::not_modified);
}

TEST_F(Preconditions, IfMatchAndIfUnmodifiedSinceFailWith412) {
    EXPECT_EQ(eval({.if_match = "\"v0\""}), hs::Precondition::failed);
    EXPECT_EQ(eval({.if_match = "W/\"v1\""}), hs::Precondition::failed);   // strong comparison
    EXPECT_EQ(eval({.if_match = "\"v1\""}), hs::Precondition::proceed);
    EXPECT_EQ(eval({.if_match = "*"}), hs::Precondition::proceed);
    EXPECT_EQ(eval({.if_unmodified_since = before}), hs::Precondition::failed);
    EXPECT_EQ(eval({.if_unmodified_since = at}), hs::Precondition::proceed);
    // If-Unmodified-Since is ignored when If-Match is present.
    EXPECT_EQ(eval({.if_match = "\"v1\"", .if_unmodified_since = before}), hs::Precondition::proceed);
}

TEST_F(Preconditions, WithoutAnEtagOnlyStarMatches) {
    etag.reset();
    EXPECT_EQ(eval({.if_none_match = "\"v1\""}), hs::Precondition::proceed);
    EXPECT_EQ(eval({.if_none_match = "*"}), hs::Precondition::not_modified);
}

// --- ranges ------------------------------------------------------------------------

std::vector<hs::ByteRange> R(std::initializer_list<hs::ByteRange> l) { return l; }

TEST(ParseRange, SingleRangesOfEveryForm) {
    auto a = hs::parse_range("bytes=0-4", 10);
    EXPECT_EQ(a.kind, Kind::satisfiable);
    EXPECT_EQ(a.ranges, R({{0, 4}}));
    EXPECT_EQ(hs::parse_range("bytes=5-", 10).ranges, R({{5, 9}}));
    EXPECT_EQ(hs::parse_range("bytes=-3", 10).ranges, R({{7, 9}}));
    EXPECT_EQ(hs::parse_range("bytes=-30", 10).ranges, R({{0, 9}}));
    EXPECT_EQ(hs::parse_range("bytes=8-100", 10).ranges, R({{8, 9}}));
    EXPECT_EQ(hs::parse_range("bytes=9-9", 10).ranges, R({{9, 9}}));
    EXPECT_EQ(hs::parse_range("Bytes = 1-2", 10).ranges, R({{1, 2}}));
    EXPECT_EQ(hs::parse_range("bytes=0-18446744073709551615", 10).ranges, R({{0, 9}}));
}

TEST(ParseRange, UnsatisfiableRangesGive416) {
    EXPECT_EQ(hs::parse_range("bytes=10-", 10).kind, Kind::unsatisfiable);
    EXPECT_EQ(hs::parse_range("bytes=10-20", 10).kind, Kind::unsatisfiable);
    EXPECT_EQ(hs::parse_range("bytes=-0", 10).kind, Kind::unsatisfiable);
    EXPECT_EQ(hs::parse_range("bytes=0-0", 0).kind, Kind::unsatisfiable);
    EXPECT_EQ(hs::parse_range("bytes=-5", 0).kind, Kind::unsatisfiable);
    EXPECT_EQ(hs::parse_range("bytes=20-30, 40-", 10).kind, Kind::unsatisfiable);
}

TEST(ParseRange, UnsatisfiableMembersAreDroppedFromASatisfiableSet) {
    auto r = hs::parse_range("bytes=20-30, 0-1", 10);
    EXPECT_EQ(r.kind, Kind::satisfiable);
    EXPECT_EQ(r.ranges, R({{0, 1}}));
}

TEST(ParseRange, MalformedOrForeignRangesAreIgnored) {
    for (const char* f : {"", "bytes", "bytes=", "bytes=a-b", "bytes=5-4", "bytes=1", "bytes=--1",
                          "bytes=1-2-3", "items=0-1", "bytes=0-1,x", "bytes=+1-2", "bytes=99999999999999999999-"})
        EXPECT_EQ(hs::parse_range(f, 10).kind, Kind::ignore) << f;
}

TEST(ParseRange, MultipleRangesAreSortedAndCoalesced) {
    auto r = hs::parse_range("bytes=6-7, 0-1, 3-4", 10);
    EXPECT_EQ(r.kind, Kind::satisfiable);
    EXPECT_EQ(r.ranges, R({{0, 1}, {3, 4}, {6, 7}}));
    EXPECT_EQ(hs::parse_range("bytes=0-4,2-6", 10).ranges, R({{0, 6}}));
    EXPECT_EQ(hs::parse_range("bytes=0-4,5-6", 10).ranges, R({{0, 6}}));
    EXPECT_EQ(hs::parse_range("bytes=0-1,0-1,0-1", 10).ranges, R({{0, 1}}));
    EXPECT_EQ(hs::parse_range("bytes=-2,0-0", 10).ranges, R({{0, 0}, {8, 9}}));
}

TEST(ParseRange, TooManyRangesAreIgnored) {
    std::string many = "bytes=0-0";
    for (std::size_t i = 1; i <= hs::kMaxRanges; ++i) many += "," + std::to_string(2 * i) + "-" + std::to_string(2 * i);
    EXPECT_EQ(hs::parse_range(many, 1000).kind, Kind::ignore);
}

TEST(IfRange, StrongEtagOrExactDate) {
    std::optional<std::string> etag = "\"v1\"";
    constexpr std::int64_t mtime = 784111777;
    EXPECT_TRUE(hs::if_range_matches("\"v1\"", etag, mtime));
    EXPECT_FALSE(hs::if_range_matches("W/\"v1\"", etag, mtime));
    EXPECT_FALSE(hs::if_range_matches("\"v2\"", etag, mtime));
    EXPECT_FALSE(hs::if_range_matches("\"v1\"", std::nullopt, mtime));
    EXPECT_TRUE(hs::if_range_matches("Sun, 06 Nov 1994 08:49:37 GMT", etag, mtime));
    EXPECT_FALSE(hs::if_range_matches("Sun, 06 Nov 1994 08:49:38 GMT", etag, mtime));
    EXPECT_FALSE(hs::if_range_matches("junk", etag, mtime));
}

TEST(Multipart, LayoutHasPartHeadsTailAndExactLength) {
    auto l = hs::multipart_layout(R({{0, 1}, {5, 9}}), "text/plain", 10, "BND");
    EXPECT_EQ(l.content_type, "multipart/byteranges; boundary=BND");
    ASSERT_EQ(l.parts.size(), 2u);
    EXPECT_EQ(l.parts[0].head, "\r\n--BND\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/10\r\n\r\n");
    EXPECT_EQ(l.parts[1].head, "\r\n--BND\r\nContent-Type: text/plain\r\nContent-Range: bytes 5-9/10\r\n\r\n");
    EXPECT_EQ(l.tail, "\r\n--BND--\r\n");
    EXPECT_EQ(l.content_length, l.parts[0].head.size() + 2 + l.parts[1].head.size() + 5 + l.tail.size());
}

TEST(Multipart, BoundariesAreFreshHex) {
    std::string a = hs::make_boundary(), b = hs::make_boundary();
    EXPECT_EQ(a.size(), 24u);
    EXPECT_NE(a, b);
    EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(ContentRange, FormatsBytesFirstLastSize) {
    EXPECT_EQ(hs::content_range({2, 5}, 10), "bytes 2-5/10");
}

// --- listing ------------------------------------------------------------------------

TEST(Listing, SortsCaseInsensitivelyLikePython) {
    std::vector<hs::ListingEntry> e{{"b"}, {"A"}, {"a"}, {"C"}, {"_x"}};
    hs::sort_listing(e);
    std::vector<std::string> names;
    for (auto& x : e) names.push_back(x.name);
    EXPECT_EQ(names, (std::vector<std::string>{"_x", "A", "a", "b", "C"}));   // "_" < "a", as in Python
}

TEST(Listing, EscapesNamesQuotesLinksAndMarksDirsAndLinks) {
    std::string html = hs::render_listing(
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
    std::string html = hs::render_listing("/", {{"javascript:alert(1)"}});
    EXPECT_NE(html.find("href=\"javascript%3Aalert%281%29\""), std::string::npos);
}

}  // namespace
