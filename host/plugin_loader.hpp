// SPDX-License-Identifier: MIT
// Finds, loads and checks plugins (Boost.DLL); keeps each library loaded for
// as long as anything made from it lives.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/dll/shared_library.hpp>
#include <sockhost/sdk/plugin.hpp>

namespace sockhost::host {

/// A plugin that cannot be used; what() is one line naming the file.
class PluginError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A loaded and checked plugin. Holds the library: every factory and handler
/// made from `info` must be dropped before the last LoadedPlugin reference.
struct LoadedPlugin {
    std::shared_ptr<boost::dll::shared_library> library;
    std::filesystem::path file;
    sdk::PluginInfo info;
    std::uint32_t abi_minor = 0;   // the SDK ABI minor it was built for
};

/// Loads plugins by name (`<dir>/lib<name>.so`, then `<dir>/<name>.so`) or by
/// path (a value containing '/'). Loading the same file twice returns the
/// same plugin; a second file declaring a name already loaded is refused.
/// Libraries are opened RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE: unresolved
/// symbols fail at load time (catchable), plugins cannot see each other's
/// symbols, and code stays mapped until exit so late objects and sanitizer
/// stacks stay valid.
class PluginRegistry {
public:
    explicit PluginRegistry(std::filesystem::path plugins_dir);

    /// Throws PluginError.
    std::shared_ptr<const LoadedPlugin> load(std::string_view name_or_path);
    /// The file `name_or_path` resolves to; throws PluginError when none exists.
    std::filesystem::path resolve(std::string_view name_or_path) const;
    const std::filesystem::path& plugins_dir() const { return dir_; }

private:
    std::filesystem::path dir_;
    std::map<std::filesystem::path, std::shared_ptr<const LoadedPlugin>> by_file_;
    std::map<std::string, std::shared_ptr<const LoadedPlugin>, std::less<>> by_name_;
};

}  // namespace sockhost::host
