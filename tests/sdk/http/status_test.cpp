// SPDX-License-Identifier: MIT
// Status helpers: html_escape as Python's html.escape.
#include <gtest/gtest.h>

#include "sockhost/sdk/http/status.hpp"

namespace http = sockhost::sdk::http;

namespace {

TEST(HtmlEscape, EscapesTheFiveSpecialCharacters) {
    EXPECT_EQ(http::html_escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;");
    EXPECT_EQ(http::html_escape("plain"), "plain");
}

}  // namespace
