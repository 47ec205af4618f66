// SPDX-License-Identifier: MIT
// Pure decision logic of file serving: see static_files.hpp.
#include "static_files.hpp"

#include <sockhost/sdk/http/ascii.hpp>
#include <sockhost/sdk/http/status.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

namespace sockhost::plugins::files {

namespace {

using sdk::http::hex_value;
using sdk::http::iequals;
std::string lower(std::string_view s) { return sdk::http::ascii_lowered(s); }

}  // namespace

// --- URL encoding ---------------------------------------------------------------

std::optional<std::string> percent_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c != '%') {
            out.push_back(c);
            continue;
        }
        if (i + 2 >= text.size()) return std::nullopt;
        int hi = hex_value(text[i + 1]);
        int lo = hex_value(text[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return out;
}

std::string percent_encode_path(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        bool unreserved = (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') ||
                          (u >= '0' && u <= '9') || u == '-' || u == '.' || u == '_' ||
                          u == '~' || u == '/';
        if (unreserved) {
            out.push_back(c);
        } else {
            out.push_back('%');
            out.push_back(kHex[u >> 4]);
            out.push_back(kHex[u & 0xF]);
        }
    }
    return out;
}

// --- Request target -> path inside the document root ----------------------

TargetResult parse_target(std::string_view target, bool show_dotfiles) {
    TargetResult result;
    std::string rebuilt;   // owns the target when absent-form needs a "/" added
    // RFC 9112 3.2.2 absolute-form: keep only the path of "scheme://authority/path".
    std::size_t scheme_end = target.find("://");
    if (!target.empty() && target.front() != '/' && scheme_end != std::string_view::npos) {
        std::string_view scheme = target.substr(0, scheme_end);
        if (!iequals(scheme, "http") && !iequals(scheme, "https")) {
            result.status = 400;
            return result;
        }
        std::string_view rest = target.substr(scheme_end + 3);
        std::size_t slash = rest.find_first_of("/?#");
        if (slash == std::string_view::npos) {
            target = "/";
        } else if (rest[slash] != '/') {
            // "http://host?q": the path is empty, i.e. "/" (RFC 9112 3.2.2).
            rebuilt = "/";
            rebuilt.append(rest.substr(slash));
            target = rebuilt;
        } else {
            target = rest.substr(slash);
        }
    }
    if (target.empty() || target.front() != '/') {
        result.status = 400;   // "*", authority-form and relative targets name no file
        return result;
    }
    // Fragment first (it may contain '?'), then the query; both before decoding.
    if (std::size_t hash = target.find('#'); hash != std::string_view::npos)
        target = target.substr(0, hash);
    std::string_view raw_path = target;
    if (std::size_t q = target.find('?'); q != std::string_view::npos) {
        raw_path = target.substr(0, q);
        result.url.query = std::string(target.substr(q + 1));
        result.url.has_query = true;
    }
    std::optional<std::string> decoded = percent_decode(raw_path);
    if (!decoded || decoded->find('\0') != std::string::npos) {
        result.status = 400;
        return result;
    }
    // Python: trailing_slash = path.rstrip().endswith('/'); without the rstrip
    // (a trailing space is part of a name here).
    result.url.trailing_slash = !decoded->empty() && decoded->back() == '/';

    std::vector<std::string>& segments = result.url.segments;
    std::string_view rest = *decoded;
    while (!rest.empty()) {
        std::size_t slash = rest.find('/');
        std::string_view seg = rest.substr(0, slash);
        rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
        if (seg.empty() || seg == ".") continue;
        if (seg == "..") {
            if (segments.empty()) {
                result.status = 400;   // would climb above the root
                return result;
            }
            segments.pop_back();
            continue;
        }
        segments.emplace_back(seg);
    }
    // "/a/.." names the root; like "/a/." it is a directory path, so keep
    // the redirect decision on the decoded text as Python does.
    if (!show_dotfiles) {
        for (const std::string& seg : segments) {
            if (is_dotfile(seg)) {
                result.status = 404;
                return result;
            }
        }
    }
    result.url.path = "/";
    for (std::size_t i = 0; i < segments.size(); ++i) {
        if (i) result.url.path += '/';
        result.url.path += segments[i];
    }
    return result;
}

std::string join_segments_native(std::string_view root, const std::vector<std::string>& segments) {
    std::size_t size = root.size();
    for (const std::string& seg : segments) size += seg.size() + 1;
    std::string p;
    p.reserve(size);
    p.append(root);
    for (const std::string& seg : segments) {
        if (!p.empty() && p.back() != '/') p += '/';   // as path::operator/=
        p += seg;
    }
    return p;
}

std::filesystem::path join_segments(const std::filesystem::path& root,
                                    const std::vector<std::string>& segments) {
    return join_segments_native(root.native(), segments);
}

bool is_within(const std::filesystem::path& root, const std::filesystem::path& path) {
    auto r = root.begin(), re = root.end();
    auto p = path.begin(), pe = path.end();
    // A trailing "" component ("/srv/www/") is not a requirement on `path`.
    for (; r != re; ++r, ++p) {
        if (r->empty() && std::next(r) == re) break;
        if (p == pe || *p != *r) return false;
    }
    return true;
}

int resolve_within(const std::filesystem::path& canonical_root, const std::filesystem::path& path,
                   std::filesystem::path& resolved) {
    char buf[PATH_MAX];
    if (::realpath(path.c_str(), buf) == nullptr) return errno;
    std::filesystem::path real(buf);
    if (!is_within(canonical_root, real)) return EXDEV;
    resolved = std::move(real);
    return 0;
}

int status_for_errno(int err) {
    switch (err) {
        case ENOENT:
        case ENOTDIR:
        case ENAMETOOLONG:
        case ELOOP:
            return 404;
        case EACCES:
        case EPERM:
        case EXDEV:
            return 403;
        default:
            return 500;
    }
}

// --- MIME types ------------------------------------------------------------

namespace {

// Used when /etc/mime.types is missing; the file overrides them.
constexpr std::array<std::pair<std::string_view, std::string_view>, 34> kDefaultTypes{{
    {"html", "text/html"},           {"htm", "text/html"},
    {"css", "text/css"},             {"js", "text/javascript"},
    {"mjs", "text/javascript"},      {"json", "application/json"},
    {"txt", "text/plain"},           {"md", "text/markdown"},
    {"csv", "text/csv"},             {"xml", "application/xml"},
    {"png", "image/png"},            {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},          {"gif", "image/gif"},
    {"svg", "image/svg+xml"},        {"ico", "image/vnd.microsoft.icon"},
    {"webp", "image/webp"},          {"avif", "image/avif"},
    {"wasm", "application/wasm"},    {"pdf", "application/pdf"},
    {"zip", "application/zip"},      {"tar", "application/x-tar"},
    {"mp3", "audio/mpeg"},           {"ogg", "audio/ogg"},
    {"wav", "audio/x-wav"},          {"mp4", "video/mp4"},
    {"webm", "video/webm"},          {"woff", "font/woff"},
    {"woff2", "font/woff2"},         {"ttf", "font/ttf"},
    {"otf", "font/otf"},             {"sh", "application/x-sh"},
    {"py", "text/x-python"},         {"c", "text/x-csrc"},
}};

// Python's SimpleHTTPRequestHandler.extensions_map: compressed files are
// served as what they are, never with a Content-Encoding. Applied last.
constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kHandlerOverrides{{
    {"gz", "application/gzip"},
    {"z", "application/octet-stream"},
    {"bz2", "application/x-bzip2"},
    {"xz", "application/x-xz"},
}};

}  // namespace

void MimeTypes::add(std::string_view extension, std::string_view type) {
    std::string ext = lower(extension);
    for (auto& [e, t] : map_) {
        if (e == ext) {
            t = std::string(type);
            return;
        }
    }
    map_.emplace_back(std::move(ext), std::string(type));
    sorted_ = false;
}

void MimeTypes::sort() {
    std::sort(map_.begin(), map_.end());
    sorted_ = true;
}

MimeTypes MimeTypes::from_text(std::string_view text, bool with_defaults) {
    MimeTypes m;
    if (with_defaults)
        for (auto [ext, type] : kDefaultTypes) m.add(ext, type);
    // add() is linear; collect the file first and merge once.
    std::vector<std::pair<std::string, std::string>> entries;
    std::istringstream in{std::string(text)};
    std::string line;
    while (std::getline(in, line)) {
        if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
        std::istringstream words(line);
        std::string type, ext;
        if (!(words >> type) || type.find('/') == std::string::npos) continue;
        while (words >> ext) entries.emplace_back(lower(ext), type);
    }
    m.sort();
    // Later lines win, like Python's mimetypes reading files in order.
    std::vector<std::pair<std::string, std::string>> merged;
    std::stable_sort(entries.begin(), entries.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::size_t i = 0; i < entries.size(); ++i)
        if (i + 1 == entries.size() || entries[i + 1].first != entries[i].first)
            merged.push_back(std::move(entries[i]));
    std::vector<std::pair<std::string, std::string>> out;
    out.reserve(m.map_.size() + merged.size());
    auto a = m.map_.begin();
    auto b = merged.begin();
    while (a != m.map_.end() || b != merged.end()) {
        if (b == merged.end() || (a != m.map_.end() && a->first < b->first)) {
            out.push_back(std::move(*a++));
        } else {
            if (a != m.map_.end() && a->first == b->first) ++a;   // the file overrides
            out.push_back(std::move(*b++));
        }
    }
    m.map_ = std::move(out);
    if (with_defaults)
        for (auto [ext, type] : kHandlerOverrides) m.add(ext, type);
    m.sort();
    return m;
}

const MimeTypes& MimeTypes::system() {
    // C++11 guarantees one thread-safe initialisation of a function static.
    static const MimeTypes table = [] {
        std::ifstream in("/etc/mime.types");
        std::string text;
        if (in) text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        return from_text(text);
    }();
    return table;
}

std::string_view MimeTypes::lookup(std::string_view filename) const {
    constexpr std::string_view kFallback = "application/octet-stream";
    std::size_t slash = filename.rfind('/');
    if (slash != std::string_view::npos) filename.remove_prefix(slash + 1);
    std::size_t dot = filename.rfind('.');
    if (dot == std::string_view::npos || dot + 1 == filename.size()) return kFallback;
    std::string ext = lower(filename.substr(dot + 1));
    if (!sorted_) {
        for (const auto& [e, t] : map_)
            if (e == ext) return t;
        return kFallback;
    }
    auto it = std::lower_bound(map_.begin(), map_.end(), ext,
                               [](const auto& entry, const std::string& key) { return entry.first < key; });
    if (it != map_.end() && it->first == ext) return it->second;
    return kFallback;
}

std::string MimeTypes::content_type(std::string_view filename) const {
    std::string type(lookup(filename));
    if (type.starts_with("text/") || type == "application/javascript" || type == "application/json")
        type += "; charset=utf-8";
    return type;
}

// --- Directory listing -------------------------------------------------------

void sort_listing(std::vector<ListingEntry>& entries) {
    std::sort(entries.begin(), entries.end(), [](const ListingEntry& a, const ListingEntry& b) {
        std::string la = lower(a.name), lb = lower(b.name);
        if (la != lb) return la < lb;
        return a.name < b.name;
    });
}

std::string render_listing(std::string_view display_path, const std::vector<ListingEntry>& entries) {
    std::string title = "Directory listing for " + sdk::http::html_escape(display_path);
    std::string r;
    r += "<!DOCTYPE HTML>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    r += "<style type=\"text/css\">\n:root {\ncolor-scheme: light dark;\n}\n</style>\n\n";
    r += "<title>" + title + "</title>\n</head>\n";
    r += "<body>\n<h1>" + title + "</h1>\n";
    r += "<hr>\n<ul>\n";
    for (const ListingEntry& e : entries) {
        std::string link = e.name, display = e.name;
        if (e.is_dir) {
            link += '/';
            display += '/';
        }
        // Python: a symlink shows '@' (a link to a directory still links with '/').
        if (e.is_symlink) display = e.name + "@";
        // A name like "a:b" must not read as a URL scheme: Python's quote
        // encodes ':' so the href stays relative.
        r += "<li><a href=\"" + percent_encode_path(link) + "\">" + sdk::http::html_escape(display) + "</a></li>\n";
    }
    r += "</ul>\n<hr>\n</body>\n</html>\n";
    return r;
}

}  // namespace sockhost::plugins::files
