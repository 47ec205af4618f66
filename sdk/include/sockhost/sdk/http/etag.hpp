// SPDX-License-Identifier: MIT
// Entity tags (RFC 9110 8.8.3): making, parsing and comparing them.
#pragma once

#include <sys/stat.h>

#include <optional>
#include <string>
#include <string_view>

#include "sockhost/sdk/abi.hpp"

namespace sockhost::sdk::http {

/// Strong entity tag of a file from inode, size and mtime (ns):
/// "\"<ino>-<size>-<mtime>\"" in hex. Strong because any write changes
/// mtime and the tag is used for byte ranges (RFC 9110 8.8.1; If-Range
/// needs a strong tag, 13.1.5).
SOCKHOST_SDK_API std::string make_etag(const struct stat& st);

/// One entity tag: the opaque-tag with its quotes, and the weak flag.
struct EntityTag {
    bool weak = false;
    std::string opaque;   // with the quotes
};
/// Parses "W/\"x\"" or "\"x\""; nullopt when malformed.
SOCKHOST_SDK_API std::optional<EntityTag> parse_etag(std::string_view text);
/// RFC 9110 8.8.3.2 weak comparison: opaque tags equal, weak flags ignored.
SOCKHOST_SDK_API bool weak_match(const EntityTag& a, const EntityTag& b);
/// RFC 9110 8.8.3.2 strong comparison: both strong and opaque tags equal.
SOCKHOST_SDK_API bool strong_match(const EntityTag& a, const EntityTag& b);
/// Does the If-None-Match / If-Match field value match `etag` (the
/// representation's current tag, nullopt when it has none)? "*" matches any
/// existing representation. `weak` selects the comparison (If-None-Match:
/// weak, If-Match: strong). A malformed member matches nothing.
SOCKHOST_SDK_API bool etag_list_matches(std::string_view field, const std::optional<std::string>& etag,
                                        bool weak);

}  // namespace sockhost::sdk::http
