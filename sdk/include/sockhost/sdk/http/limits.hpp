// SPDX-License-Identifier: MIT
// The HTTP layer's limits and their [server.options] keys.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "sockhost/sdk/abi.hpp"
#include "sockhost/sdk/options.hpp"

namespace sockhost::sdk::http {

/// Per-server HTTP limits, read from [server.options] (keys in parentheses).
struct SOCKHOST_SDK_API Limits {
    std::size_t max_request_line = 8192;          // (max_request_line) -> 414
    std::size_t max_header_count = 100;           // (max_header_count) -> 431
    std::size_t max_header_size = 16 * 1024;      // (max_header_size), whole head -> 431
    std::uint64_t max_body_size = 10 * 1024 * 1024;  // (max_body_size) -> 413
    double header_timeout = 10.0;                 // (header_timeout) s for the whole head -> 408
    double body_timeout = 30.0;                   // (body_timeout) s of body inactivity
    double send_timeout = 30.0;                   // (send_timeout) s of send inactivity
    double keepalive_timeout = 15.0;              // (keepalive_timeout) s idle between requests
    std::uint64_t max_keepalive_requests = 1000;  // (max_keepalive_requests) then close

    /// Reads the keys above; OptionError on a wrong type or range.
    static Limits from_options(const Options& options);
    /// The option keys Limits reads.
    static std::span<const std::string_view> option_keys();
};

/// For an HTTP plugin's validate_options: checks the HTTP layer's keys
/// (Limits::from_options) and that every key is an HTTP key or in one of
/// the plugin's lists (OptionError "unknown option" otherwise).
SOCKHOST_SDK_API void validate_http_options(const Options& options,
                                            std::span<const std::string_view> plugin_keys = {},
                                            std::span<const std::string_view> more_plugin_keys = {});

}  // namespace sockhost::sdk::http
