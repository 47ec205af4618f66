// SPDX-License-Identifier: MIT
// Conditional requests (RFC 9110 13): preconditions in their order, If-Range.
#include <gtest/gtest.h>

#include "sockhost/sdk/http/conditional.hpp"

namespace http = sockhost::sdk::http;

namespace {

class Preconditions : public ::testing::Test {
protected:
    std::optional<std::string> etag = "\"v1\"";
    std::int64_t mtime = 784111777;
    const std::string at = "Sun, 06 Nov 1994 08:49:37 GMT";
    const std::string before = "Sun, 06 Nov 1994 08:49:36 GMT";
    const std::string after = "Sun, 06 Nov 1994 08:49:38 GMT";
    http::Precondition eval(http::ConditionalHeaders h) { return http::evaluate_preconditions(h, etag, mtime); }
};

TEST_F(Preconditions, NoConditionsProceed) { EXPECT_EQ(eval({}), http::Precondition::proceed); }

TEST_F(Preconditions, IfModifiedSinceGives304WhenNotNewer) {
    EXPECT_EQ(eval({.if_modified_since = at}), http::Precondition::not_modified);
    EXPECT_EQ(eval({.if_modified_since = after}), http::Precondition::not_modified);
    EXPECT_EQ(eval({.if_modified_since = before}), http::Precondition::proceed);
    EXPECT_EQ(eval({.if_modified_since = "garbage"}), http::Precondition::proceed);
}

TEST_F(Preconditions, IfNoneMatchGives304OnWeakMatch) {
    EXPECT_EQ(eval({.if_none_match = "\"v1\""}), http::Precondition::not_modified);
    EXPECT_EQ(eval({.if_none_match = "W/\"v1\""}), http::Precondition::not_modified);
    EXPECT_EQ(eval({.if_none_match = "\"v0\", \"v1\""}), http::Precondition::not_modified);
    EXPECT_EQ(eval({.if_none_match = "*"}), http::Precondition::not_modified);
    EXPECT_EQ(eval({.if_none_match = "\"v0\""}), http::Precondition::proceed);
}

TEST_F(Preconditions, IfNoneMatchTakesPrecedenceOverIfModifiedSince) {
    // RFC 9110 13.2.2: If-Modified-Since is ignored when If-None-Match is present.
    EXPECT_EQ(eval({.if_none_match = "\"v0\"", .if_modified_since = after}), http::Precondition::proceed);
    EXPECT_EQ(eval({.if_none_match = "\"v1\"", .if_modified_since = before}),
              http::Precondition::not_modified);
}

TEST_F(Preconditions, IfMatchAndIfUnmodifiedSinceFailWith412) {
    EXPECT_EQ(eval({.if_match = "\"v0\""}), http::Precondition::failed);
    EXPECT_EQ(eval({.if_match = "W/\"v1\""}), http::Precondition::failed);   // strong comparison
    EXPECT_EQ(eval({.if_match = "\"v1\""}), http::Precondition::proceed);
    EXPECT_EQ(eval({.if_match = "*"}), http::Precondition::proceed);
    EXPECT_EQ(eval({.if_unmodified_since = before}), http::Precondition::failed);
    EXPECT_EQ(eval({.if_unmodified_since = at}), http::Precondition::proceed);
    // If-Unmodified-Since is ignored when If-Match is present.
    EXPECT_EQ(eval({.if_match = "\"v1\"", .if_unmodified_since = before}), http::Precondition::proceed);
}

TEST_F(Preconditions, WithoutAnEtagOnlyStarMatches) {
    etag.reset();
    EXPECT_EQ(eval({.if_none_match = "\"v1\""}), http::Precondition::proceed);
    EXPECT_EQ(eval({.if_none_match = "*"}), http::Precondition::not_modified);
}

TEST(IfRange, StrongEtagOrExactDate) {
    std::optional<std::string> etag = "\"v1\"";
    constexpr std::int64_t mtime = 784111777;
    EXPECT_TRUE(http::if_range_matches("\"v1\"", etag, mtime));
    EXPECT_FALSE(http::if_range_matches("W/\"v1\"", etag, mtime));
    EXPECT_FALSE(http::if_range_matches("\"v2\"", etag, mtime));
    EXPECT_FALSE(http::if_range_matches("\"v1\"", std::nullopt, mtime));
    EXPECT_TRUE(http::if_range_matches("Sun, 06 Nov 1994 08:49:37 GMT", etag, mtime));
    EXPECT_FALSE(http::if_range_matches("Sun, 06 Nov 1994 08:49:38 GMT", etag, mtime));
    EXPECT_FALSE(http::if_range_matches("junk", etag, mtime));
}

}  // namespace
