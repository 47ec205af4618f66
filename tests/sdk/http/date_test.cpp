// SPDX-License-Identifier: MIT
// HTTP dates (RFC 9110 5.6.7): the three forms a recipient accepts.
#include <gtest/gtest.h>

#include "sockhost/sdk/http/date.hpp"

namespace http = sockhost::sdk::http;

namespace {

TEST(HttpDate, ParsesTheThreeFormatsOfRfc9110) {
    constexpr std::int64_t t = 784111777;   // Sun, 06 Nov 1994 08:49:37 GMT
    EXPECT_EQ(http::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), t);
    EXPECT_EQ(http::parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), t);
    EXPECT_EQ(http::parse_http_date("Sun Nov  6 08:49:37 1994"), t);
    EXPECT_EQ(http::parse_http_date("  Sun, 06 Nov 1994 08:49:37 GMT "), t);
}

TEST(HttpDate, RejectsMalformedDates) {
    for (const char* d : {"", "yesterday", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Foo 1994 08:49:37 GMT",
                          "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT",
                          "Sun, 00 Nov 1994 08:49:37 GMT", "1994-11-06T08:49:37Z"})
        EXPECT_FALSE(http::parse_http_date(d)) << d;
}

}  // namespace
