// SPDX-License-Identifier: MIT
// http_static: static files over HTTP/1.1. Python counterpart:
// http.server.SimpleHTTPRequestHandler, plus Range (206/416), ETag /
// If-None-Match, zero-copy sending and strict containment in `directory`.
//
// [server.options] (every key optional; the HTTP layer's limits such as
// max_request_line or keepalive_timeout are accepted too; any other key is
// an error at start-up):
//
//   [server.options]
//   directory       = "www"      # string, default ".": the document root. Relative
//                                # paths are relative to the host's working directory.
//                                # Must exist and be a directory (checked at start-up,
//                                # resolved once to its canonical path).
//   index           = ["index.html", "index.htm"]
//                                # array of strings, default as shown: files served for a
//                                # directory URL, first existing regular file wins. Plain
//                                # names only (no '/', not "." or "..").
//   listing         = true       # bool, default true: a directory without an index file
//                                # gets Python's HTML listing; false -> 403 Forbidden.
//   follow_symlinks = false      # bool, default false: false = a path whose realpath
//                                # leaves `directory` is refused (403); true = symlinks
//                                # are followed wherever they point.
//   show_dotfiles   = false      # bool, default false: false = any path segment starting
//                                # with '.' answers 404 and is left out of listings.
//   cache_control   = "max-age=3600"
//                                # string, default unset: sent verbatim as Cache-Control on
//                                # file responses (200, 206, 304) when set.
//   etag            = true       # bool, default true: send a strong ETag (inode, size,
//                                # mtime) and honour If-None-Match / If-Match / If-Range
//                                # entity tags; false = Last-Modified only.
//   open_file_cache = 1000       # integer 0..100000, default 1000: how many files the
//                                # server keeps open with their response fields made
//                                # (like nginx's open_file_cache). A cached file is served
//                                # with no open, fstat or close. 0 = no cache: every
//                                # request opens the file anew. Each cached file larger
//                                # than open_file_cache_inline holds one fd.
//   open_file_cache_valid = 1.0  # number (s) in (0, 3600], default 1.0: how long a cached
//                                # file is served without looking at the file system.
//                                # After that the next request opens it again (the same
//                                # containment and symlink checks as an uncached open):
//                                # unchanged (device, inode, size, mtime, ctime) -> kept;
//                                # changed -> replaced; gone or refused -> dropped and
//                                # answered as without a cache. So for up to this long a
//                                # changed, deleted or swapped file may still be served as
//                                # it was; set open_file_cache = 0 where that matters.
//   open_file_cache_inline = 16384
//                                # integer 0..1048576 (bytes), default 16384: cached files
//                                # up to this size are held in memory and sent with the
//                                # response head in one send; larger ones go by sendfile
//                                # from the cached fd.
//
// Methods: GET and HEAD. Every other method gets the base class's 501 Not
// Implemented, as Python's server does: a static server supports no other
// method on any resource (RFC 9110 15.6.2), so 405 would be the wrong claim.
#pragma once

#include <sys/stat.h>

#include <array>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sockhost/sdk.hpp>
#include <sockhost/sdk/http/base_http_request_handler.hpp>

#include "file_cache.hpp"
#include "static_files.hpp"

namespace sockhost::plugins::http_static {

/// One server's options, parsed and checked once at start-up; shared
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
    /// shared by every copy of this Config, closed with the last.
    std::shared_ptr<const int> root_fd;

    /// Reads and checks the keys above (not unknown keys: see
    /// validate_options). Throws sdk::OptionError naming the key.
    static Config from_options(const sdk::Options& options);
};

/// The option keys http_static reads. A plugin reusing this one (cgi) lists
/// them beside its own in its validate_http_options call.
inline constexpr std::array<std::string_view, 10> kOptionKeys{
    "directory",     "index", "listing",         "follow_symlinks",       "show_dotfiles",
    "cache_control", "etag",  "open_file_cache", "open_file_cache_valid", "open_file_cache_inline"};

/// PluginInfo::validate_options: HTTP layer keys + kOptionKeys, nothing else;
/// then Config::from_options. Throws sdk::OptionError.
void validate_options(const sdk::Options& options);

/// PluginInfo::make_factory: parses the options once and returns a factory
/// whose handlers share that Config. Stream transport only (nullptr else).
sdk::HandlerFactory make_factory(const sdk::Options& options);

/// An open file (or directory) and its fstat, owned for one request.
class OpenFile {
public:
    OpenFile() = default;
    ~OpenFile();
    OpenFile(const OpenFile&) = delete;
    OpenFile& operator=(const OpenFile&) = delete;
    OpenFile(OpenFile&& other) noexcept;
    OpenFile& operator=(OpenFile&& other) noexcept;

    int fd() const { return fd_; }
    const struct stat& stat() const { return stat_; }
    bool is_dir() const { return S_ISDIR(stat_.st_mode); }
    bool is_regular() const { return S_ISREG(stat_.st_mode); }
    /// Gives up the fd (the caller closes it); the object is left closed.
    int release() { return std::exchange(fd_, -1); }

    /// Opens `path` read-only (non-blocking, so a FIFO cannot hang us) and
    /// fstats it once. With `canonical_root` set, the path's realpath must
    /// lie below it and is opened with no symlink resolution at all
    /// (openat2 RESOLVE_NO_SYMLINKS, else O_NOFOLLOW), so a symlink swapped
    /// in after the check is refused too. Returns 0 or an errno (EXDEV when
    /// the path leaves the root).
    /// Fast path: with `root_fd` (the root opened O_PATH), one
    /// openat2(root_fd, relative, RESOLVE_BENEATH) does the containment
    /// check in the kernel; only when it answers EXDEV (an escape, or an
    /// absolute symlink that may still land inside) or is unavailable does
    /// the realpath check above decide.
    int open(const std::filesystem::path& path, const std::filesystem::path* canonical_root,
             int root_fd = -1);

private:
    int fd_ = -1;
    struct stat stat_ {};
};

/// SimpleHTTPRequestHandler: serves GET and HEAD from Config::directory.
/// One object per connection (the base class loops over keep-alive
/// requests). Subclassable: the cgi plugin overrides do_GET/do_HEAD (and
/// do_POST) and calls serve() / serve_path() for non-CGI paths, so both
/// plugins serve files identically.
class SimpleHTTPRequestHandler : public sdk::http::BaseHTTPRequestHandler {
public:
    /// `config` is shared with every handler of the server; not null.
    explicit SimpleHTTPRequestHandler(std::shared_ptr<const Config> config);
    ~SimpleHTTPRequestHandler() override;

    /// Serves the file, index file or listing for `path`. May be overridden.
    void do_GET() override;
    /// As do_GET without the body (same status and headers, Range ignored:
    /// RFC 9110 14.2 defines range handling for GET only). May be overridden.
    void do_HEAD() override;

protected:
    const Config& config() const { return *config_; }

    /// Parses the current request-target (`path`) and serves it; answers
    /// 400/404 itself when the target is rejected.
    void serve(bool head_only);
    /// Serves an already parsed target: the file, a 301 to the slashed URL
    /// for a directory asked for without its '/', an index file, a listing,
    /// or the error status. Sends exactly one response.
    virtual void serve_path(const UrlPath& url, bool head_only);
    /// Sends a regular file already opened: preconditions (304/412), Range
    /// (206/416), else 200; the body with send_file unless `head_only`.
    /// `name` picks the MIME type.
    virtual void serve_file(const OpenFile& file, std::string_view name, bool head_only);
    /// serve_file for a file from the open-file cache: the same responses,
    /// from the entry's prepared fields; an inline body is written from
    /// memory (with the head, in one send), else sent from its fd.
    virtual void serve_cached(const CachedFile& file, bool head_only);
    /// Sends the HTML listing of the open directory `dir` for `url`.
    virtual void list_directory(const OpenFile& dir, const UrlPath& url, bool head_only);
    /// The one errno -> response mapping (status_for_errno + send_error).
    void send_errno(int err);
    /// Opens `path` under the symlink policy of the config.
    int open_path(const std::filesystem::path& path, OpenFile& file) const;
    /// open_path through the open-file cache: 0 and `cached` set for a
    /// regular file (fresh from the cache, or opened and stored), 0 and
    /// `file` open for anything else (a directory, ...), or an errno. Without
    /// a cache it is open_path. `name` picks a new entry's MIME type.
    /// `path` is a plain string: a cache hit never builds a filesystem::path.
    int open_cached(const std::string& path, std::string_view name, OpenFile& file,
                    std::shared_ptr<const CachedFile>& cached) const;
    /// Last-Modified, ETag (when enabled), Cache-Control (when set).
    void send_validators(const struct stat& st, const std::optional<std::string>& etag);

private:
    struct FileView;
    /// serve_file's and serve_cached's one implementation.
    void send_file_view(const FileView& file, bool head_only);
    void send_validators(std::string_view last_modified, const std::optional<std::string>& etag);

    std::shared_ptr<const Config> config_;
};

}  // namespace sockhost::plugins::http_static
