// SPDX-License-Identifier: MIT
// Options: typed, checked access to [server.options].
#include "sockhost/sdk/options.hpp"

namespace sockhost::sdk {

OptionError::OptionError(std::string key, const std::string& message)
    : std::runtime_error(message), key_(std::move(key)) {}
OptionError::~OptionError() = default;

Options::Options() = default;
Options::Options(std::initializer_list<std::pair<const std::string, OptionValue>> values)
    : values_(values) {}
Options::~Options() = default;
Options::Options(const Options&) = default;
Options& Options::operator=(const Options&) = default;
Options::Options(Options&&) noexcept = default;
Options& Options::operator=(Options&&) noexcept = default;

void Options::set(std::string key, OptionValue value) {
    values_.insert_or_assign(std::move(key), std::move(value));
}

bool Options::contains(std::string_view key) const { return values_.find(key) != values_.end(); }

const OptionValue* Options::find(std::string_view key) const {
    auto it = values_.find(key);
    return it == values_.end() ? nullptr : &it->second;
}

namespace {
template <class T>
const T& expect(const OptionValue& v, std::string_view key, const char* type_name) {
    if (const T* p = std::get_if<T>(&v)) return *p;
    throw OptionError(std::string(key), std::string("expected ") + type_name);
}
}  // namespace

std::string Options::get_string(std::string_view key, std::string_view fallback) const {
    const OptionValue* v = find(key);
    return v ? expect<std::string>(*v, key, "a string") : std::string(fallback);
}

bool Options::get_bool(std::string_view key, bool fallback) const {
    const OptionValue* v = find(key);
    return v ? expect<bool>(*v, key, "a boolean") : fallback;
}

std::int64_t Options::get_int(std::string_view key, std::int64_t fallback) const {
    const OptionValue* v = find(key);
    return v ? expect<std::int64_t>(*v, key, "an integer") : fallback;
}

double Options::get_double(std::string_view key, double fallback) const {
    const OptionValue* v = find(key);
    if (!v) return fallback;
    if (const auto* i = std::get_if<std::int64_t>(v)) return static_cast<double>(*i);
    return expect<double>(*v, key, "a number");
}

std::vector<std::string> Options::get_string_list(std::string_view key,
                                                  std::vector<std::string> fallback) const {
    const OptionValue* v = find(key);
    return v ? expect<std::vector<std::string>>(*v, key, "an array of strings") : fallback;
}

std::int64_t Options::get_int_in(std::string_view key, std::int64_t fallback, std::int64_t min,
                                 std::int64_t max) const {
    std::int64_t v = get_int(key, fallback);
    if (v < min || v > max)
        throw OptionError(std::string(key), "must be between " + std::to_string(min) + " and " +
                                                std::to_string(max));
    return v;
}

void Options::require_known(std::initializer_list<std::string_view> known) const {
    for (const auto& [key, value] : values_) {
        bool found = false;
        for (std::string_view k : known) found = found || k == key;
        if (!found) throw OptionError(key, "unknown option");
    }
}

void no_options(const Options& options) { options.require_known({}); }

}  // namespace sockhost::sdk
