// SPDX-License-Identifier: MIT
// Header fields: Headers (http.client.HTTPMessage's lookups), the token
// rule and the field line syntax.
#include "sockhost/sdk/http/headers.hpp"

#include <array>

#include "sockhost/sdk/http/ascii.hpp"

namespace sockhost::sdk::http {

void Headers::add(std::string name, std::string value) {
    fields_.emplace_back(std::move(name), std::move(value));
}

std::optional<std::string_view> Headers::get(std::string_view name) const {
    for (const auto& [n, v] : fields_)
        if (iequals(n, name)) return std::string_view(v);
    return std::nullopt;
}

std::string Headers::get_all(std::string_view name, std::string_view separator) const {
    std::string out;
    bool first = true;
    for (const auto& [n, v] : fields_) {
        if (!iequals(n, name)) continue;
        if (!first) out.append(separator);
        out.append(v);
        first = false;
    }
    return out;
}

bool Headers::contains(std::string_view name) const { return get(name).has_value(); }


namespace {
/// RFC 9110 5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" /
/// "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA, as a table (every
/// response header name is checked with it).
constexpr std::array<bool, 256> kTokenChars = [] {
    std::array<bool, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
    return t;
}();
}  // namespace

bool is_token_char(char c) noexcept { return kTokenChars[static_cast<unsigned char>(c)]; }

bool is_token(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (char c : s)
        if (!kTokenChars[static_cast<unsigned char>(c)]) return false;
    return true;
}

const char* parse_field_line(std::string_view line, std::string_view& name,
                             std::string_view& value) {
    // RFC 9112 5.2: obs-fold is deprecated; a server rejects it with 400.
    if (is_ows(line.front())) return "obsolete line folding";
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return "header line without a colon";
    name = line.substr(0, colon);
    if (name.empty()) return "empty header name";
    // RFC 9112 5.1: no whitespace between field name and colon; 400.
    if (is_ows(name.back())) return "whitespace before the colon";
    if (!is_token(name)) return "invalid header name";
    value = trim_ows(line.substr(colon + 1));
    for (char c : value)
        if (!is_field_value_char(c)) return "control character in a header value";
    return nullptr;
}

}  // namespace sockhost::sdk::http
