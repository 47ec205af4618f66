// SPDX-License-Identifier: MIT
// Conditional requests (RFC 9110 13): If-Match, If-None-Match,
// If-Modified-Since, If-Unmodified-Since and If-Range.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sockhost/sdk/abi.hpp"
#include "sockhost/sdk/http/headers.hpp"

namespace sockhost::sdk::http {

/// Result of evaluating the preconditions of a GET/HEAD.
enum class Precondition { proceed, not_modified, failed };

/// What evaluate_preconditions reads from the request (absent = nullopt).
struct ConditionalHeaders {
    std::optional<std::string> if_match = std::nullopt;
    std::optional<std::string> if_none_match = std::nullopt;
    std::optional<std::string> if_modified_since = std::nullopt;
    std::optional<std::string> if_unmodified_since = std::nullopt;
};

/// The four fields of a request; repeated If-Match / If-None-Match fields
/// are combined into one list (RFC 9110 5.3), a repeated date is taken
/// first-come.
SOCKHOST_SDK_API ConditionalHeaders conditional_headers(const Headers& headers);

/// RFC 9110 13.2.2 order for GET/HEAD: If-Match (false -> 412), else
/// If-Unmodified-Since (false -> 412); then If-None-Match (false -> 304),
/// else If-Modified-Since (not modified -> 304). Dates compare in whole
/// seconds; invalid dates are ignored (RFC 9110 13.1.3, 13.1.4).
SOCKHOST_SDK_API Precondition evaluate_preconditions(const ConditionalHeaders& h,
                                                     const std::optional<std::string>& etag,
                                                     std::int64_t last_modified);

/// RFC 9110 13.1.5 If-Range: true when Range may be honoured. An entity-tag
/// must strongly match `etag`; an HTTP-date must equal `last_modified`
/// exactly. Anything else (weak tag, bad date, no etag) -> false.
SOCKHOST_SDK_API bool if_range_matches(std::string_view field, const std::optional<std::string>& etag,
                                       std::int64_t last_modified);

}  // namespace sockhost::sdk::http
