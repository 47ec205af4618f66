// SPDX-License-Identifier: MIT
// Entity tags (RFC 9110 8.8.3): making, parsing, weak and strong comparison.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include "sockhost/sdk/http/etag.hpp"

namespace http = sockhost::sdk::http;

namespace {

TEST(ETag, IsStrongAndChangesWithSizeMtimeAndInode) {
    struct stat st {};
    st.st_ino = 0x10;
    st.st_size = 0x20;
    st.st_mtim.tv_sec = 1;
    st.st_mtim.tv_nsec = 5;
    std::string tag = http::make_etag(st);
    EXPECT_EQ(tag, "\"10-20-3b9aca05\"");
    auto parsed = http::parse_etag(tag);
    ASSERT_TRUE(parsed);
    EXPECT_FALSE(parsed->weak);
    st.st_size = 0x21;
    EXPECT_NE(http::make_etag(st), tag);
}

TEST(ETag, ParsesWeakAndStrongAndRejectsJunk) {
    EXPECT_TRUE(http::parse_etag("W/\"a\"")->weak);
    EXPECT_EQ(http::parse_etag("W/\"a\"")->opaque, "\"a\"");
    EXPECT_FALSE(http::parse_etag("\"\"")->weak);
    EXPECT_FALSE(http::parse_etag("a"));
    EXPECT_FALSE(http::parse_etag("\"a"));
    EXPECT_FALSE(http::parse_etag("\"a\"b\""));
    EXPECT_FALSE(http::parse_etag("w/\"a\""));
}

TEST(ETag, WeakAndStrongComparisonFollowRfc9110Table) {
    // RFC 9110 8.8.3.2's example table.
    auto w1 = *http::parse_etag("W/\"1\""), w2 = *http::parse_etag("W/\"2\""), s1 = *http::parse_etag("\"1\"");
    EXPECT_FALSE(http::strong_match(w1, w1));
    EXPECT_TRUE(http::weak_match(w1, w1));
    EXPECT_FALSE(http::strong_match(w1, w2));
    EXPECT_FALSE(http::weak_match(w1, w2));
    EXPECT_FALSE(http::strong_match(w1, s1));
    EXPECT_TRUE(http::weak_match(w1, s1));
    EXPECT_TRUE(http::strong_match(s1, s1));
}

TEST(ETag, ListMatchingHandlesStarListsAndWeakness) {
    std::optional<std::string> tag = "\"abc\"";
    EXPECT_TRUE(http::etag_list_matches("*", tag, true));
    EXPECT_TRUE(http::etag_list_matches("*", std::nullopt, true));
    EXPECT_TRUE(http::etag_list_matches("\"x\", \"abc\"", tag, true));
    EXPECT_TRUE(http::etag_list_matches("\"x\",W/\"abc\"", tag, true));
    EXPECT_FALSE(http::etag_list_matches("W/\"abc\"", tag, false));
    EXPECT_TRUE(http::etag_list_matches(" \"abc\" ", tag, false));
    EXPECT_FALSE(http::etag_list_matches("\"abcd\"", tag, true));
    EXPECT_FALSE(http::etag_list_matches("abc", tag, true));
    EXPECT_FALSE(http::etag_list_matches("\"abc\"", std::nullopt, true));
}

}  // namespace
