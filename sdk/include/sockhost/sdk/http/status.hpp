// SPDX-License-Identifier: MIT
// Status codes (RFC 9110 15): reason phrases, explanations, the error page.
#pragma once

#include <string>
#include <string_view>

#include "sockhost/sdk/abi.hpp"

namespace sockhost::sdk::http {

/// Reason phrase for a status code ("Not Found"); "" when unknown.
SOCKHOST_SDK_API std::string_view reason_phrase(int code);
/// Python's http.HTTPStatus description ("Nothing matches the given URI");
/// "" when unknown.
SOCKHOST_SDK_API std::string_view status_explanation(int code);
/// Python's http.server.DEFAULT_ERROR_MESSAGE page for `code`, with
/// `message` and `explain` HTML-escaped.
SOCKHOST_SDK_API std::string error_page(int code, std::string_view message, std::string_view explain);
/// The error page's Content-Type.
inline constexpr std::string_view kErrorPageContentType = "text/html;charset=utf-8";

/// Python's html.escape(s, quote): &, <, > (and with `quote`, " and ').
SOCKHOST_SDK_API std::string html_escape(std::string_view s, bool quote = true);

}  // namespace sockhost::sdk::http
