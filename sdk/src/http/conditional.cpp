// SPDX-License-Identifier: MIT
// Conditional requests (RFC 9110 13).
#include "sockhost/sdk/http/conditional.hpp"

#include "sockhost/sdk/http/ascii.hpp"
#include "sockhost/sdk/http/date.hpp"
#include "sockhost/sdk/http/etag.hpp"

namespace sockhost::sdk::http {

ConditionalHeaders conditional_headers(const Headers& headers) {
    ConditionalHeaders h;
    auto list = [&headers](std::string_view name) -> std::optional<std::string> {
        if (!headers.contains(name)) return std::nullopt;
        return headers.get_all(name, ", ");   // RFC 9110 5.3: repeated list fields combine
    };
    auto first = [&headers](std::string_view name) -> std::optional<std::string> {
        if (auto v = headers.get(name)) return std::string(*v);
        return std::nullopt;
    };
    h.if_match = list("If-Match");
    h.if_none_match = list("If-None-Match");
    h.if_modified_since = first("If-Modified-Since");
    h.if_unmodified_since = first("If-Unmodified-Since");
    return h;
}

Precondition evaluate_preconditions(const ConditionalHeaders& h, const std::optional<std::string>& etag,
                                    std::int64_t last_modified) {
    // RFC 9110 13.2.2 step 1-2.
    if (h.if_match) {
        if (!etag_list_matches(*h.if_match, etag, /*weak=*/false)) return Precondition::failed;
    } else if (h.if_unmodified_since) {
        if (auto date = parse_http_date(*h.if_unmodified_since); date && last_modified > *date)
            return Precondition::failed;
    }
    // Step 3-4: If-None-Match takes precedence over If-Modified-Since.
    if (h.if_none_match) {
        if (etag_list_matches(*h.if_none_match, etag, /*weak=*/true)) return Precondition::not_modified;
    } else if (h.if_modified_since) {
        if (auto date = parse_http_date(*h.if_modified_since); date && last_modified <= *date)
            return Precondition::not_modified;
    }
    return Precondition::proceed;
}

bool if_range_matches(std::string_view field, const std::optional<std::string>& etag,
                      std::int64_t last_modified) {
    field = trim_ows(field);
    if (field.starts_with("\"") || field.starts_with("W/")) {
        std::optional<EntityTag> tag = parse_etag(field);
        if (!tag || !etag) return false;
        std::optional<EntityTag> current = parse_etag(*etag);
        return current && strong_match(*tag, *current);
    }
    std::optional<std::int64_t> date = parse_http_date(field);
    return date && *date == last_modified;
}

}  // namespace sockhost::sdk::http
