// SPDX-License-Identifier: MIT
// Entity tags (RFC 9110 8.8.3).
#include "sockhost/sdk/http/etag.hpp"

#include <cstdint>
#include <cstdio>

#include "sockhost/sdk/http/ascii.hpp"

namespace sockhost::sdk::http {

std::string make_etag(const struct stat& st) {
    std::uint64_t mtime_ns = static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1000000000ull +
                             static_cast<std::uint64_t>(st.st_mtim.tv_nsec);
    char buf[80];
    std::snprintf(buf, sizeof buf, "\"%llx-%llx-%llx\"",
                  static_cast<unsigned long long>(st.st_ino),
                  static_cast<unsigned long long>(st.st_size),
                  static_cast<unsigned long long>(mtime_ns));
    return buf;
}

std::optional<EntityTag> parse_etag(std::string_view text) {
    EntityTag tag;
    if (text.starts_with("W/")) {
        tag.weak = true;
        text.remove_prefix(2);
    }
    // RFC 9110 8.8.3: opaque-tag = DQUOTE *etagc DQUOTE; etagc excludes '"'.
    if (text.size() < 2 || text.front() != '"' || text.back() != '"') return std::nullopt;
    for (std::size_t i = 1; i + 1 < text.size(); ++i) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c == '"' || c < 0x21 || c == 0x7f) return std::nullopt;
    }
    tag.opaque = std::string(text);
    return tag;
}

bool weak_match(const EntityTag& a, const EntityTag& b) { return a.opaque == b.opaque; }

bool strong_match(const EntityTag& a, const EntityTag& b) {
    return !a.weak && !b.weak && a.opaque == b.opaque;
}

bool etag_list_matches(std::string_view field, const std::optional<std::string>& etag, bool weak) {
    std::string_view value = trim_ows(field);
    if (value == "*") return true;   // the representation exists (callers ask only then)
    if (!etag) return false;
    std::optional<EntityTag> current = parse_etag(*etag);
    if (!current) return false;
    bool matched = false;
    for_each_list_element(value, [&](std::string_view member) {
        std::optional<EntityTag> tag = parse_etag(member);
        if (tag && (weak ? weak_match(*tag, *current) : strong_match(*tag, *current))) matched = true;
    });
    return matched;
}

}  // namespace sockhost::sdk::http
