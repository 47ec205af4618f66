// SPDX-License-Identifier: MIT
// Config: the file-serving options of one server (http_static's, which cgi
// takes too), parsed once at start-up. Each key's meaning, type and default
// is documented with the plugin: plugins/http_static/http_static.hpp.
#pragma once

#include <array>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sockhost/sdk/options.hpp>
#include <sockhost/sdk/posix/unique_fd.hpp>

namespace sockhost::plugins::files {

class FileCache;

/// One server's file options, parsed and checked once at start-up; shared
/// read-only by every handler of that server (any thread). The one mutable
/// thing it leads to, the FileCache, locks itself.
struct Config {
    std::filesystem::path directory;   // canonical (realpath) document root
    std::vector<std::string> index{"index.html", "index.htm"};
    bool listing = true;
    bool follow_symlinks = false;
    bool show_dotfiles = false;
    bool etag = true;
    std::optional<std::string> cache_control;
    std::size_t open_file_cache = 1000;           // entries; 0 = no cache
    double open_file_cache_valid = 1.0;           // seconds
    std::size_t open_file_cache_inline = 16384;   // bytes
    /// The server's open-file cache (null when open_file_cache is 0): one
    /// per from_options call, shared by every copy of this Config and so by
    /// every handler of the server, on any thread.
    std::shared_ptr<FileCache> file_cache;
    /// The root opened O_PATH once, for openat2(RESOLVE_BENEATH) lookups;
    /// shared by every copy of this Config, closed with the last. Null (or
    /// empty) when the open failed: lookups then take the realpath path.
    std::shared_ptr<const sdk::posix::UniqueFd> root_fd;

    /// Reads and checks the keys of kOptionKeys (not unknown keys: the
    /// plugin's validate_options does). Throws sdk::OptionError naming the key.
    static Config from_options(const sdk::Options& options);
    /// root_fd's descriptor, or -1.
    int root() const { return root_fd ? root_fd->get() : -1; }
};

/// The option keys Config reads. Every plugin serving files with it lists
/// them beside its own in its validate_http_options call.
inline constexpr std::array<std::string_view, 10> kOptionKeys{
    "directory",     "index", "listing",         "follow_symlinks",       "show_dotfiles",
    "cache_control", "etag",  "open_file_cache", "open_file_cache_valid", "open_file_cache_inline"};

}  // namespace sockhost::plugins::files
