// SPDX-License-Identifier: MIT
// Headers: the request's header fields (http.client.HTTPMessage's lookups).
// Kept apart from the handler so the parser's fuzz target links without it.
#include "sockhost/sdk/http/base_http_request_handler.hpp"
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

}  // namespace sockhost::sdk::http
