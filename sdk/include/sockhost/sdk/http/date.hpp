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

}  // namespace sockhost::sdk::http
