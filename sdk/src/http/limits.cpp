// SPDX-License-Identifier: MIT
// The HTTP layer's limits, read from [server.options].
#include "sockhost/sdk/http/limits.hpp"

#include <algorithm>
#include <string>

namespace sockhost::sdk::http {

Limits Limits::from_options(const Options& options) {
    constexpr std::int64_t kMaxSize = std::int64_t{1} << 40;
    auto seconds = [&](std::string_view key, double fallback) {
        double v = options.get_double(key, fallback);
        if (!(v > 0.0) || v > 86400.0)
            throw OptionError(std::string(key), "must be a number of seconds in (0, 86400]");
        return v;
    };
    Limits l;
    l.max_request_line = static_cast<std::size_t>(
        options.get_int_in("max_request_line", static_cast<std::int64_t>(l.max_request_line), 64,
                           1 << 20));
    l.max_header_count = static_cast<std::size_t>(options.get_int_in(
        "max_header_count", static_cast<std::int64_t>(l.max_header_count), 1, 10000));
    l.max_header_size = static_cast<std::size_t>(options.get_int_in(
        "max_header_size", static_cast<std::int64_t>(l.max_header_size), 256, 16 << 20));
    l.max_body_size = static_cast<std::uint64_t>(options.get_int_in(
        "max_body_size", static_cast<std::int64_t>(l.max_body_size), 0, kMaxSize));
    l.header_timeout = seconds("header_timeout", l.header_timeout);
    l.body_timeout = seconds("body_timeout", l.body_timeout);
    l.send_timeout = seconds("send_timeout", l.send_timeout);
    l.keepalive_timeout = seconds("keepalive_timeout", l.keepalive_timeout);
    l.max_keepalive_requests = static_cast<std::uint64_t>(options.get_int_in(
        "max_keepalive_requests", static_cast<std::int64_t>(l.max_keepalive_requests), 1,
        kMaxSize));
    return l;
}

std::span<const std::string_view> Limits::option_keys() {
    static constexpr std::string_view keys[] = {
        "max_request_line", "max_header_count",  "max_header_size",
        "max_body_size",    "header_timeout",    "body_timeout",
        "send_timeout",     "keepalive_timeout", "max_keepalive_requests"};
    return keys;
}

void validate_http_options(const Options& options, std::span<const std::string_view> plugin_keys,
                           std::span<const std::string_view> more_plugin_keys) {
    (void)Limits::from_options(options);
    auto listed = [](std::span<const std::string_view> keys, const std::string& key) {
        return std::find(keys.begin(), keys.end(), key) != keys.end();
    };
    for (const auto& [key, value] : options.values()) {
        if (!listed(Limits::option_keys(), key) && !listed(plugin_keys, key) && !listed(more_plugin_keys, key))
            throw OptionError(key, "unknown option");
    }
}

}  // namespace sockhost::sdk::http
