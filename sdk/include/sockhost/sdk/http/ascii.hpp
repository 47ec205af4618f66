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

/// `s` with ASCII letters lowered.
inline std::string ascii_lowered(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = ascii_lower(c);
    return out;
}

}  // namespace sockhost::sdk::http
