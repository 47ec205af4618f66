// SPDX-License-Identifier: MIT
// For the http_static tests: which option key validate_options rejects.
#pragma once

#include <string>

#include <sockhost/sdk/options.hpp>

#include "http_static/http_static.hpp"

namespace sockhost::plugins::http_static::testing {

/// The key of the OptionError validate_options throws for `o`, or "".
inline std::string option_error_key(const sdk::Options& o) {
    try {
        validate_options(o);
    } catch (const sdk::OptionError& e) {
        return e.key();
    }
    return "";
}

}  // namespace sockhost::plugins::http_static::testing
