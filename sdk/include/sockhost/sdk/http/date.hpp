// SPDX-License-Identifier: MIT
// HTTP dates (RFC 9110 5.6.7).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sockhost/sdk/abi.hpp"

namespace sockhost::sdk::http {

/// IMF-fixdate of `t` (seconds since the epoch): "Sun, 06 Nov 1994 08:49:37 GMT".
SOCKHOST_SDK_API std::string format_http_date(std::int64_t t);
/// The IMF-fixdate of the current second, formatted at most once a second
/// per thread; the view is valid until the thread's next call.
SOCKHOST_SDK_API std::string_view http_date_now();
/// Parses an HTTP-date in any of the three forms a recipient must accept
/// (IMF-fixdate, RFC 850, asctime), surrounding OWS allowed; seconds since
/// the epoch, nullopt when malformed. A two-digit RFC 850 year more than
/// 50 years ahead is in the past century; a leap second reads as :59.
SOCKHOST_SDK_API std::optional<std::int64_t> parse_http_date(std::string_view text);

}  // namespace sockhost::sdk::http
