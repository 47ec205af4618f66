// SPDX-License-Identifier: MIT
// Header fields (RFC 9110 5): the request's fields and the token rule.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sockhost/sdk/abi.hpp"

namespace sockhost::sdk::http {

/// Header fields in arrival order; names compare case-insensitively.
class SOCKHOST_SDK_API Headers {
public:
    using Field = std::pair<std::string, std::string>;
    void add(std::string name, std::string value);
    /// The first value of `name`, if present.
    std::optional<std::string_view> get(std::string_view name) const;
    /// Every value of `name` joined with `separator` ("" when absent).
    std::string get_all(std::string_view name, std::string_view separator = ", ") const;
    bool contains(std::string_view name) const;
    const std::vector<Field>& fields() const { return fields_; }
    std::size_t size() const { return fields_.size(); }
    void clear() { fields_.clear(); }

private:
    std::vector<Field> fields_;
};

/// RFC 9110 5.6.2: tchar.
SOCKHOST_SDK_API bool is_token_char(char c) noexcept;
/// RFC 9110 5.6.2: 1*tchar.
SOCKHOST_SDK_API bool is_token(std::string_view s) noexcept;
/// RFC 9110 5.5: field-value characters are HTAB, SP, VCHAR and obs-text.
constexpr bool is_field_value_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    return c == '\t' || (u >= 0x20 && u != 0x7f);
}
/// Splits one field line (RFC 9112 5; no line terminator, not empty) into
/// its name and its value without surrounding whitespace. Returns why it is
/// invalid (obs-fold, no colon, whitespace before the colon, a name that is
/// not a token, a control character in the value), or nullptr.
SOCKHOST_SDK_API const char* parse_field_line(std::string_view line, std::string_view& name,
                                              std::string_view& value);

}  // namespace sockhost::sdk::http
