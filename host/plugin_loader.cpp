// SPDX-License-Identifier: MIT
#include "host/plugin_loader.hpp"

#include <dlfcn.h>

#include <cstddef>
#include <cstdio>
#include <system_error>

namespace sockhost::host {

namespace fs = std::filesystem;
namespace dll = boost::dll;

PluginRegistry::PluginRegistry(fs::path plugins_dir) : dir_(std::move(plugins_dir)) {}

fs::path PluginRegistry::resolve(std::string_view name_or_path) const {
    std::string name(name_or_path);
    if (name.empty()) throw PluginError("plugin name is empty");
    std::error_code ec;
    if (name.find('/') != std::string::npos) {
        fs::path p(name);
        if (!fs::is_regular_file(p, ec))
            throw PluginError("plugin '" + name + "' not found: no file " + p.string());
        return fs::absolute(p, ec).lexically_normal();
    }
    fs::path first = dir_ / ("lib" + name + ".so");
    fs::path second = dir_ / (name + ".so");
    for (const fs::path& p : {first, second})
        if (fs::is_regular_file(p, ec)) return fs::absolute(p, ec).lexically_normal();
    throw PluginError("plugin '" + name + "' not found: no file " + first.string() + " or " +
                      second.string());
}

namespace {
std::string version_text(std::uint32_t major, std::uint32_t minor) {
    return std::to_string(major) + "." + std::to_string(minor);
}
}  // namespace

std::shared_ptr<const LoadedPlugin> PluginRegistry::load(std::string_view name_or_path) {
    fs::path file = resolve(name_or_path);
    if (auto it = by_file_.find(file); it != by_file_.end()) return it->second;
    const std::string where = "plugin '" + std::string(name_or_path) + "' (" + file.string() + ")";

    auto library = std::make_shared<dll::shared_library>();
    try {
        // The throwing overload keeps dlerror()'s text in what().
        library->load(file, static_cast<dll::load_mode::type>(RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE));
    } catch (const std::system_error& e) {
        std::string why = e.what();
        // Boost wraps the reason as "... (dlerror system message: REASON): ..."
        auto at = why.find("dlerror system message: ");
        if (at != std::string::npos) {
            why = why.substr(at + 24);
            auto end = why.rfind("): ");
            if (end != std::string::npos) why.resize(end);
        }
        throw PluginError(where + " is not a loadable shared object: " + why);
    }
    if (!library->has(sdk::kDescriptorSymbol))
        throw PluginError(where + " is not a sockhost plugin (no '" +
                          std::string(sdk::kDescriptorSymbol) + "' symbol)");

    // Plain data first: nothing from the plugin runs until all checks pass.
    const auto& d = library->get_alias<const sdk::PluginDescriptor>(sdk::kDescriptorSymbol);
    if (d.magic != sdk::kAbiMagic) {
        char hex[16];
        std::snprintf(hex, sizeof hex, "0x%08x", d.magic);
        throw PluginError(where + " has no valid sockhost descriptor (magic " + hex + ")");
    }
    if (d.abi_major != sdk::kAbiMajor)
        throw PluginError(where + " was built for SDK ABI " + version_text(d.abi_major, d.abi_minor) +
                          ", host has " + version_text(sdk::kAbiMajor, sdk::kAbiMinor) +
                          " (rebuild the plugin against this SDK)");
    if (d.abi_minor > sdk::kAbiMinor)
        throw PluginError(where + " needs SDK ABI " + version_text(d.abi_major, d.abi_minor) +
                          " but the host has only " + version_text(sdk::kAbiMajor, sdk::kAbiMinor) +
                          " (upgrade sockhost)");
    if (d.size < offsetof(sdk::PluginDescriptor, info) + sizeof(d.info) || d.info == nullptr)
        throw PluginError(where + " has a truncated descriptor");
    const sdk::AbiFingerprint host_abi = sdk::sdk_fingerprint();
    if (!sdk::same_abi(d.fingerprint, host_abi))
        throw PluginError(where + " was built with another C++ ABI: plugin [" +
                          sdk::describe(d.fingerprint) + "], host [" + sdk::describe(host_abi) +
                          "] (rebuild the plugin with the host's toolchain)");

    auto plugin = std::make_shared<LoadedPlugin>();
    plugin->library = library;
    plugin->file = file;
    plugin->abi_minor = d.abi_minor;
    try {
        plugin->info = d.info();
    } catch (const std::exception& e) {
        throw PluginError(where + ": its info() failed: " + e.what());
    }
    const sdk::PluginInfo& info = plugin->info;
    if (info.name.empty()) throw PluginError(where + " declares an empty name");
    if (!info.make_factory || !info.validate_options)
        throw PluginError(where + " declares no make_factory or validate_options");
    if (info.transports == sdk::Transports::none)
        throw PluginError(where + " declares no transport");
    if (auto it = by_name_.find(info.name); it != by_name_.end())
        throw PluginError(where + " declares the name '" + info.name +
                          "', already loaded from " + it->second->file.string());

    by_file_.emplace(file, plugin);
    by_name_.emplace(info.name, plugin);
    return plugin;
}

}  // namespace sockhost::host
