// SPDX-License-Identifier: MIT
// SimpleHTTPRequestHandler and the http_static option handling.
#include "http_static.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

#include <sockhost/sdk/http/conditional.hpp>
#include <sockhost/sdk/http/date.hpp>
#include <sockhost/sdk/http/etag.hpp>
#include <sockhost/sdk/http/range.hpp>

namespace sockhost::plugins::http_static {

namespace fs = std::filesystem;
namespace http = sdk::http;

// --- options -------------------------------------------------------------------

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
    int root = ::open(real, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root >= 0)
        c.root_fd = std::shared_ptr<const int>(new int(root), [](const int* fd) {
            ::close(*fd);
            delete fd;
        });

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

void validate_options(const sdk::Options& options) {
    http::validate_http_options(options, kOptionKeys);
    (void)Config::from_options(options);
}

sdk::HandlerFactory make_factory(const sdk::Options& options) {
    auto config = std::make_shared<const Config>(Config::from_options(options));
    (void)MimeTypes::system();   // load /etc/mime.types before the first request
    return [config](sdk::Transport t) -> std::unique_ptr<sdk::BaseRequestHandler> {
        if (t != sdk::Transport::stream) return nullptr;
        return std::make_unique<SimpleHTTPRequestHandler>(config);
    };
}

// --- OpenFile --------------------------------------------------------------------

OpenFile::~OpenFile() {
    if (fd_ >= 0) ::close(fd_);
}

OpenFile::OpenFile(OpenFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), stat_(other.stat_) {}

OpenFile& OpenFile::operator=(OpenFile&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
        stat_ = other.stat_;
    }
    return *this;
}

namespace {

constexpr int kOpenFlags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;

/// Opens a canonical path refusing any symlink on the way: openat2 with
/// RESOLVE_NO_SYMLINKS (Linux 5.6+), else O_NOFOLLOW on the last component.
int open_no_symlinks(const fs::path& canonical) {
    static std::atomic<bool> openat2_works{true};
    if (openat2_works.load(std::memory_order_relaxed)) {
        struct open_how how {};
        how.flags = static_cast<std::uint64_t>(kOpenFlags);
        how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
        int fd;
        do {
            fd = static_cast<int>(::syscall(SYS_openat2, AT_FDCWD, canonical.c_str(), &how, sizeof how));
        } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
        // ENOSYS: old kernel; EPERM: a seccomp filter that does not know it.
        if (fd >= 0 || (errno != ENOSYS && errno != EPERM)) return fd;
        openat2_works.store(false, std::memory_order_relaxed);
    }
    int fd;
    do {
        fd = ::open(canonical.c_str(), kOpenFlags | O_NOFOLLOW);
    } while (fd < 0 && errno == EINTR);
    return fd;
}

}  // namespace

namespace {
/// openat2(root_fd, path relative to root, RESOLVE_BENEATH): the fd, or -1
/// with errno (ENOSYS/EPERM: no openat2 here).
int open_beneath(int root_fd, const fs::path& root, const fs::path& path) {
    static std::atomic<bool> works{true};
    if (!works.load(std::memory_order_relaxed)) {
        errno = ENOSYS;
        return -1;
    }
    const std::string& full = path.native();
    const std::string& base = root.native();
    std::string rel = full.size() > base.size() ? full.substr(base.size()) : std::string();
    std::size_t skip = rel.find_first_not_of('/');
    rel = skip == std::string::npos ? "." : rel.substr(skip);
    struct open_how how {};
    how.flags = static_cast<std::uint64_t>(kOpenFlags);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    int fd;
    do {
        fd = static_cast<int>(::syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof how));
    } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
    if (fd < 0 && (errno == ENOSYS || errno == EPERM)) works.store(false, std::memory_order_relaxed);
    return fd;
}
}  // namespace

int OpenFile::open(const fs::path& path, const fs::path* canonical_root, int root_fd) {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
    int fd = -1;
    // Paths built by the handler always start with the root; anything else
    // takes the slow path.
    if (canonical_root != nullptr && root_fd >= 0 &&
        path.native().compare(0, canonical_root->native().size(), canonical_root->native()) == 0) {
        fd = open_beneath(root_fd, *canonical_root, path);
        if (fd < 0 && errno != EXDEV && errno != ENOSYS && errno != EPERM) return errno;
    }
    if (fd >= 0) {
        // Found beneath the root in one syscall.
    } else if (canonical_root != nullptr) {
        fs::path real;
        if (int err = resolve_within(*canonical_root, path, real); err != 0) return err;
        fd = open_no_symlinks(real);
    } else {
        do {
            fd = ::open(path.c_str(), kOpenFlags);
        } while (fd < 0 && errno == EINTR);
    }
    if (fd < 0) return errno;
    if (::fstat(fd, &stat_) != 0) {
        int err = errno;
        ::close(fd);
        return err;
    }
    fd_ = fd;
    return 0;
}

// --- SimpleHTTPRequestHandler -----------------------------------------------------

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
    return file.open(p, config_->follow_symlinks ? nullptr : &config_->directory,
                     config_->root_fd ? *config_->root_fd : -1);
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
    send_file_view({file.st, file.fd, file.body, file.last_modified, file.etag, file.content_type,
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
    int dup_fd = ::fcntl(dir.fd(), F_DUPFD_CLOEXEC, 0);
    DIR* d = dup_fd >= 0 ? ::fdopendir(dup_fd) : nullptr;
    if (d == nullptr) {
        int err = errno;
        if (dup_fd >= 0) ::close(dup_fd);
        send_errno(err);
        return;
    }
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

}  // namespace sockhost::plugins::http_static
