// SPDX-License-Identifier: MIT
// Config::from_options: the file-serving options (see config.hpp).
#include "config.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <utility>

#include <sockhost/sdk/errors.hpp>

#include "file_cache.hpp"

namespace sockhost::plugins::files {

Config Config::from_options(const sdk::Options& options) {
    Config c;
    std::string dir = options.get_string("directory", ".");
    if (dir.empty()) throw sdk::OptionError("directory", "must not be empty");
    char real[PATH_MAX];
    if (::realpath(dir.c_str(), real) == nullptr)
        throw sdk::OptionError("directory", "'" + dir + "': " + std::strerror(errno));
    struct stat st {};
    if (::stat(real, &st) != 0 || !S_ISDIR(st.st_mode))
        throw sdk::OptionError("directory", "'" + dir + "' is not a directory");
    c.directory = real;
    if (int root = ::open(real, O_PATH | O_DIRECTORY | O_CLOEXEC); root >= 0)
        c.root_fd = std::make_shared<const sdk::posix::UniqueFd>(root);

    c.index = options.get_string_list("index", c.index);
    for (const std::string& name : c.index) {
        if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
            name.find('\0') != std::string::npos)
            throw sdk::OptionError("index", "'" + name + "' is not a plain file name");
    }
    c.listing = options.get_bool("listing", c.listing);
    c.follow_symlinks = options.get_bool("follow_symlinks", c.follow_symlinks);
    c.show_dotfiles = options.get_bool("show_dotfiles", c.show_dotfiles);
    c.etag = options.get_bool("etag", c.etag);
    if (options.contains("cache_control")) {
        std::string value = options.get_string("cache_control");
        if (value.empty()) throw sdk::OptionError("cache_control", "must not be empty");
        // RFC 9110 5.5: a field value has no CR, LF, NUL or other controls but HTAB.
        for (char ch : value) {
            auto u = static_cast<unsigned char>(ch);
            if ((u < 0x20 && u != '\t') || u == 0x7f)
                throw sdk::OptionError("cache_control", "contains a control character");
        }
        c.cache_control = std::move(value);
    }
    c.open_file_cache = static_cast<std::size_t>(options.get_int_in("open_file_cache", 1000, 0, 100000));
    c.open_file_cache_valid = options.get_double("open_file_cache_valid", c.open_file_cache_valid);
    if (!(c.open_file_cache_valid > 0.0) || c.open_file_cache_valid > 3600.0)
        throw sdk::OptionError("open_file_cache_valid", "must be a number of seconds in (0, 3600]");
    c.open_file_cache_inline =
        static_cast<std::size_t>(options.get_int_in("open_file_cache_inline", 16384, 0, 1 << 20));
    if (c.open_file_cache > 0)
        c.file_cache = std::make_shared<FileCache>(FileCache::Settings{.max_entries = c.open_file_cache,
                                                                       .valid = c.open_file_cache_valid,
                                                                       .inline_max = c.open_file_cache_inline,
                                                                       .etag = c.etag});
    return c;
}

}  // namespace sockhost::plugins::files
