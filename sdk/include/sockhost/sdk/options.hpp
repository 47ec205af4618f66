// SPDX-License-Identifier: MIT
// A read-only view of one server's [server.options] table, handed to its plugin.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sockhost/sdk/abi.hpp"

namespace sockhost::sdk {

/// Thrown by a plugin's option validator (and by the typed getters below).
/// `key` names the offending option; the host turns it into
/// `servers.toml:LINE:COL: option 'key': message` using the key's position.
class SOCKHOST_SDK_API OptionError : public std::runtime_error {
public:
    OptionError(std::string key, const std::string& message);
    ~OptionError() override;
    const std::string& key() const noexcept { return key_; }

private:
    std::string key_;
};

/// One option value: the TOML scalar types plus arrays of strings.
using OptionValue =
    std::variant<bool, std::int64_t, double, std::string, std::vector<std::string>>;

/// The options of one server. Values are copied out of the TOML document by
/// the host; plugins never see TOML types.
class SOCKHOST_SDK_API Options {
public:
    Options();
    Options(std::initializer_list<std::pair<const std::string, OptionValue>> values);
    ~Options();
    Options(const Options&);
    Options& operator=(const Options&);
    Options(Options&&) noexcept;
    Options& operator=(Options&&) noexcept;

    void set(std::string key, OptionValue value);
    bool contains(std::string_view key) const;
    const OptionValue* find(std::string_view key) const;
    const std::map<std::string, OptionValue, std::less<>>& values() const { return values_; }
    bool empty() const { return values_.empty(); }

    /// Typed getters: the default when absent, OptionError when of another type.
    std::string get_string(std::string_view key, std::string_view fallback = {}) const;
    bool get_bool(std::string_view key, bool fallback) const;
    std::int64_t get_int(std::string_view key, std::int64_t fallback) const;
    /// Accepts an integer or a float.
    double get_double(std::string_view key, double fallback) const;
    std::vector<std::string> get_string_list(std::string_view key,
                                             std::vector<std::string> fallback = {}) const;
    /// get_int, and OptionError unless min <= value <= max.
    std::int64_t get_int_in(std::string_view key, std::int64_t fallback, std::int64_t min,
                            std::int64_t max) const;

    /// OptionError naming the first key not in `known` ("unknown option").
    void require_known(std::initializer_list<std::string_view> known) const;

private:
    std::map<std::string, OptionValue, std::less<>> values_;
};

/// Validator for plugins that take no options: any key is an error.
SOCKHOST_SDK_API void no_options(const Options& options);

}  // namespace sockhost::sdk
