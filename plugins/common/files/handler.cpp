// SPDX-License-Identifier: MIT
// SimpleHTTPRequestHandler: see handler.hpp.
#include "handler.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include <sockhost/sdk/http/conditional.hpp>
#include <sockhost/sdk/http/date.hpp>
#include <sockhost/sdk/http/etag.hpp>
#include <sockhost/sdk/http/range.hpp>

namespace sockhost::plugins::files {

namespace fs = std::filesystem;
namespace http = sdk::http;

SimpleHTTPRequestHandler::SimpleHTTPRequestHandler(std::shared_ptr<const Config> config)
    : config_(std::move(config)) {}

SimpleHTTPRequestHandler::~SimpleHTTPRequestHandler() = default;

void SimpleHTTPRequestHandler::do_GET() { serve(false); }

void SimpleHTTPRequestHandler::do_HEAD() { serve(true); }

void SimpleHTTPRequestHandler::serve(bool head_only) {
    TargetResult target = parse_target(path, config_->show_dotfiles);
    if (target.status != 0) {
        send_error(target.status);
        return;
    }
    serve_path(target.url, head_only);
}

int SimpleHTTPRequestHandler::open_path(const fs::path& p, OpenFile& file) const {
    return file.open(p, config_->follow_symlinks ? nullptr : &config_->directory, config_->root());
}

void SimpleHTTPRequestHandler::send_errno(int err) {
    int status = status_for_errno(err);
    if (status == 500) log_error(std::string("open failed: ") + std::strerror(err));
    send_error(status);
}

int SimpleHTTPRequestHandler::open_cached(const std::string& p, std::string_view name, OpenFile& file,
                                          std::shared_ptr<const CachedFile>& cached) const {
    FileCache* cache = config_->file_cache.get();
    if (cache == nullptr) return open_path(p, file);
    return cache->open(p, name, [this, &p](OpenFile& f) { return open_path(p, f); }, file, cached);
}

void SimpleHTTPRequestHandler::serve_path(const UrlPath& url, bool head_only) {
    const std::string lexical = join_segments_native(config_->directory.native(), url.segments);
    const std::string_view name =
        url.segments.empty() ? std::string_view{} : std::string_view(url.segments.back());
    OpenFile file;
    std::shared_ptr<const CachedFile> cached;   // set for a regular file when caching
    if (int err = open_cached(lexical, name, file, cached); err != 0) {
        send_errno(err);
        return;
    }
    if (cached) {
        if (url.trailing_slash) {
            send_error(404);   // Python: a file has no trailing slash
            return;
        }
        serve_cached(*cached, head_only);
        return;
    }
    if (file.is_dir()) {
        if (!url.trailing_slash) {
            // Python: redirect browsers so relative links resolve. The Location is
            // built from the normalised path, so it never starts with "//" (an
            // open redirect to another host, CPython gh-87389).
            std::string location = percent_encode_path(url.path);
            if (location.back() != '/') location += '/';
            if (url.has_query) location += "?" + url.query;
            send_response(301);
            send_header("Location", location);
            send_header("Content-Length", "0");
            end_headers();
            return;
        }
        for (const std::string& index_name : config_->index) {
            OpenFile index;
            std::shared_ptr<const CachedFile> cached_index;
            if (open_cached(join_segments_native(lexical, {index_name}), index_name, index, cached_index) != 0)
                continue;
            if (cached_index) {
                serve_cached(*cached_index, head_only);
                return;
            }
            if (index.is_regular()) {
                serve_file(index, index_name, head_only);
                return;
            }
        }
        if (!config_->listing) {
            send_error(403, "Directory listing is disabled");
            return;
        }
        list_directory(file, url, head_only);
        return;
    }
    if (!file.is_regular()) {
        send_error(403, "Not a regular file");   // FIFOs, devices, sockets
        return;
    }
    if (url.trailing_slash) {
        send_error(404);   // Python: a file has no trailing slash
        return;
    }
    serve_file(file, name, head_only);
}

void SimpleHTTPRequestHandler::send_validators(const struct stat& st,
                                               const std::optional<std::string>& etag) {
    send_validators(http::format_http_date(st.st_mtim.tv_sec), etag);
}

void SimpleHTTPRequestHandler::send_validators(std::string_view last_modified,
                                               const std::optional<std::string>& etag) {
    send_header("Last-Modified", last_modified);
    if (etag) send_header("ETag", *etag);
    if (config_->cache_control) send_header("Cache-Control", *config_->cache_control);
}

/// A regular file as serve_file and serve_cached see it: its stat, the
/// fields of its responses, and where the bytes come from.
struct SimpleHTTPRequestHandler::FileView {
    const struct stat& st;
    int fd;                                   // for send_file when there is no body
    const std::optional<std::string>& body;   // the whole content in memory, or nullopt
    std::string_view last_modified;
    const std::optional<std::string>& etag;
    std::string_view content_type;
    std::string_view content_length;
};

void SimpleHTTPRequestHandler::serve_file(const OpenFile& file, std::string_view name, bool head_only) {
    const struct stat& st = file.stat();
    std::optional<std::string> etag;
    if (config_->etag) etag = http::make_etag(st);
    const std::string last_modified = http::format_http_date(st.st_mtim.tv_sec);
    const std::string content_type = MimeTypes::system().content_type(name);
    const std::string content_length = std::to_string(st.st_size);
    const std::optional<std::string> no_body;
    send_file_view({st, file.fd(), no_body, last_modified, etag, content_type, content_length}, head_only);
}

void SimpleHTTPRequestHandler::serve_cached(const CachedFile& file, bool head_only) {
    send_file_view({file.st, file.fd.get(), file.body, file.last_modified, file.etag, file.content_type,
                    file.content_length},
                   head_only);
}

void SimpleHTTPRequestHandler::send_file_view(const FileView& file, bool head_only) {
    const std::int64_t mtime = file.st.st_mtim.tv_sec;
    const auto size = static_cast<std::uint64_t>(file.st.st_size);
    const std::optional<std::string>& etag = file.etag;
    // The bytes [offset, offset + count): from memory for an inline file.
    auto send_bytes = [this, &file](std::uint64_t offset, std::uint64_t count) {
        if (file.body)
            write_body(std::string_view(*file.body).substr(static_cast<std::size_t>(offset),
                                                           static_cast<std::size_t>(count)));
        else
            send_file(file.fd, static_cast<off_t>(offset), static_cast<std::size_t>(count));
    };

    switch (http::evaluate_preconditions(http::conditional_headers(headers), etag, mtime)) {
        case http::Precondition::failed:
            send_error(412);
            return;
        case http::Precondition::not_modified:
            // RFC 9110 15.4.5: a 304 carries the validators and Cache-Control a
            // 200 would, and no body.
            send_response(304);
            send_validators(file.last_modified, etag);
            end_headers();
            return;
        case http::Precondition::proceed:
            break;
    }

    http::RangeResult range;
    // RFC 9110 14.2: Range is defined for GET only; HEAD ignores it.
    // RFC 9110 13.1.5: If-Range that does not match means "send everything".
    if (auto field = headers.get("Range"); field && !head_only) {
        auto if_range = headers.get("If-Range");
        if (!if_range || http::if_range_matches(*if_range, etag, mtime))
            range = http::parse_range(*field, size);
    }

    if (range.kind == http::RangeResult::Kind::unsatisfiable) {
        // RFC 9110 15.5.17: 416 with Content-Range: bytes */size.
        send_response(416);
        send_header("Content-Range", "bytes */" + std::to_string(size));
        send_header("Content-Length", "0");
        end_headers();
        return;
    }

    if (range.kind == http::RangeResult::Kind::satisfiable && range.ranges.size() == 1) {
        const http::ByteRange& r = range.ranges.front();
        send_response(206);
        send_header("Content-Type", file.content_type);
        send_header("Content-Range", http::content_range(r, size));
        send_header("Content-Length", std::to_string(r.length()));
        send_header("Accept-Ranges", "bytes");
        send_validators(file.last_modified, etag);
        end_headers();
        send_bytes(r.first, r.length());
        return;
    }

    if (range.kind == http::RangeResult::Kind::satisfiable) {
        // RFC 9110 14.6: several ranges as multipart/byteranges.
        http::MultipartLayout layout =
            http::multipart_layout(range.ranges, file.content_type, size, http::make_boundary());
        send_response(206);
        send_header("Content-Type", layout.content_type);
        send_header("Content-Length", std::to_string(layout.content_length));
        send_header("Accept-Ranges", "bytes");
        send_validators(file.last_modified, etag);
        end_headers();
        for (const http::MultipartLayout::Part& part : layout.parts) {
            write_body(part.head);
            send_bytes(part.range.first, part.range.length());
        }
        write_body(layout.tail);
        return;
    }

    send_response(200);
    send_header("Content-Type", file.content_type);
    send_header("Content-Length", file.content_length);
    send_header("Accept-Ranges", "bytes");
    send_validators(file.last_modified, etag);
    end_headers();
    if (!head_only && size > 0) send_bytes(0, size);
}

void SimpleHTTPRequestHandler::list_directory(const OpenFile& dir, const UrlPath& url, bool head_only) {
    // Read through a duplicate of the fd we already checked, not by name again.
    sdk::posix::UniqueFd dup(::fcntl(dir.fd(), F_DUPFD_CLOEXEC, 0));
    DIR* d = dup ? ::fdopendir(dup.get()) : nullptr;
    if (d == nullptr) {
        const int err = errno;
        dup.reset();
        send_errno(err);
        return;
    }
    (void)dup.release();   // closedir closes it
    std::vector<ListingEntry> entries;
    while (dirent* e = ::readdir(d)) {
        std::string_view name = e->d_name;
        if (name == "." || name == "..") continue;
        if (!config_->show_dotfiles && is_dotfile(name)) continue;
        ListingEntry entry;
        entry.name = std::string(name);
        unsigned char type = e->d_type;
        struct stat st {};
        if (type == DT_UNKNOWN && ::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
            type = S_ISLNK(st.st_mode) ? DT_LNK : S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
        entry.is_symlink = type == DT_LNK;
        if (type == DT_DIR) {
            entry.is_dir = true;
        } else if (type == DT_LNK) {
            entry.is_dir = ::fstatat(::dirfd(d), e->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode);
        }
        entries.push_back(std::move(entry));
    }
    ::closedir(d);
    sort_listing(entries);

    std::string display = url.path;
    if (display.back() != '/') display += '/';
    std::string body = render_listing(display, entries);
    send_response(200);
    send_header("Content-Type", "text/html; charset=utf-8");
    send_header("Content-Length", std::to_string(body.size()));
    end_headers();
    if (!head_only) write_body(body);
}

}  // namespace sockhost::plugins::files
