// SPDX-License-Identifier: MIT
// What an incremental HTTP parser stopped on.
#pragma once

namespace sockhost::sdk::http {

enum class ParseStatus {
    need_more,   // not enough bytes yet: read more and call again with all of them
    done,        // complete; `consumed` bytes belong to this element
    error,       // malformed or over a limit: answer `error_code`, then close
};

}  // namespace sockhost::sdk::http
