// SPDX-License-Identifier: MIT
// ASCII-only case helpers for protocol tokens (header names, methods,
// schemes): locale-free, so "TITLE" never lowers to a dotless i.
#pragma once

#include <string>
#include <string_view>

namespace sockhost::sdk::http {

constexpr char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
constexpr char ascii_upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

/// Case-insensitive ASCII comparison (RFC 9110 5.1: field names).
constexpr bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
}

/// RFC 9110 5.6.3: OWS is SP / HTAB.
constexpr bool is_ows(char c) { return c == ' ' || c == '\t'; }

/// `s` without leading and trailing OWS.
constexpr std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
    return s;
}

/// The value of a hex digit, -1 for anything else.
constexpr int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// Calls f(element) for each element of a comma-separated list (RFC 9110
/// 5.6.1), without surrounding OWS; empty elements are skipped.
template <class F>
constexpr void for_each_list_element(std::string_view list, F&& f) {
    while (true) {
        const std::size_t comma = list.find(',');
        const std::string_view item = trim_ows(list.substr(0, comma));
        if (!item.empty()) f(item);
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
}

/// True when the comma-separated list holds `token` (case-insensitively),
/// e.g. "keep-alive, Upgrade" holds "upgrade" (RFC 9110 5.6.1).
constexpr bool list_contains(std::string_view list, std::string_view token) {
    bool found = false;
    for_each_list_element(list, [&](std::string_view item) { found = found || iequals(item, token); });
    return found;
}

/// `s` with ASCII letters lowered.
inline std::string ascii_lowered(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = ascii_lower(c);
    return out;
}

}  // namespace sockhost::sdk::http
