// SPDX-License-Identifier: MIT
// SimpleHTTPRequestHandler: http.server.SimpleHTTPRequestHandler over the
// SDK's HTTP layer, plus Range (206/416), ETag and the preconditions,
// zero-copy sending, the open-file cache and strict containment.
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <sockhost/sdk/http/base_http_request_handler.hpp>

#include "config.hpp"
#include "file_cache.hpp"
#include "open_file.hpp"
#include "static_files.hpp"

namespace sockhost::plugins::files {

/// SimpleHTTPRequestHandler: serves GET and HEAD from Config::directory.
/// One object per connection (the base class loops over keep-alive
/// requests). Subclassable: the cgi plugin routes every method itself and
/// calls serve_path() for non-CGI paths, so both plugins serve files
/// identically.
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

}  // namespace sockhost::plugins::files
