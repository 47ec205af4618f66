// SPDX-License-Identifier: MIT
// Pure decision logic of http_static: see static_files.hpp.
#include "static_files.hpp"

#include <sockhost/sdk/http/ascii.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>

namespace sockhost::plugins::http_static {

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

using sdk::http::ascii_lower;
using sdk::http::iequals;
std::string lower(std::string_view s) { return sdk::http::ascii_lowered(s); }

bool is_ows(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
    return s;
}

/// Parses a non-empty run of decimal digits; false on overflow or junk.
bool parse_u64(std::string_view s, std::uint64_t& out) {
    if (s.empty()) return false;
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        std::uint64_t d = static_cast<std::uint64_t>(c - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    out = v;
    return true;
}

/// Splits a field value on commas (RFC 9110 5.6.1 lists), trimming OWS and
/// dropping empty members.
std::vector<std::string_view> split_list(std::string_view field) {
    std::vector<std::string_view> out;
    while (true) {
        std::size_t comma = field.find(',');
        std::string_view member = trim(field.substr(0, comma));
        if (!member.empty()) out.push_back(member);
        if (comma == std::string_view::npos) break;
        field.remove_prefix(comma + 1);
    }
    return out;
}

}  // namespace

// --- URL encoding and HTML escaping ---------------------------------------

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

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#x27;"; break;
            default: out.push_back(c);
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

// --- Validators and conditional requests -----------------------------------

namespace {

int month_index(std::string_view m) {
    static constexpr std::array<std::string_view, 12> kMonths{
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int i = 0; i < 12; ++i)
        if (m == kMonths[i]) return i;
    return -1;
}

bool parse_int_exact(std::string_view s, std::size_t digits, int& out) {
    if (s.size() != digits) return false;
    int v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    out = v;
    return true;
}

bool parse_clock(std::string_view s, int& h, int& m, int& sec) {
    return s.size() == 8 && s[2] == ':' && s[5] == ':' && parse_int_exact(s.substr(0, 2), 2, h) &&
           parse_int_exact(s.substr(3, 2), 2, m) && parse_int_exact(s.substr(6, 2), 2, sec) &&
           h < 24 && m < 60 && sec <= 60;
}

std::vector<std::string_view> split_spaces(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && s[i] == ' ') ++i;
        std::size_t j = i;
        while (j < s.size() && s[j] != ' ') ++j;
        if (j > i) out.push_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

}  // namespace

std::string format_http_date(std::int64_t t) {
    static constexpr std::array<std::string_view, 7> kDays{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr std::array<std::string_view, 12> kMonths{
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::time_t tt = static_cast<std::time_t>(t);
    struct tm tm {};
    gmtime_r(&tt, &tm);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.3s, %02d %.3s %04d %02d:%02d:%02d GMT", kDays[static_cast<std::size_t>(tm.tm_wday) % 7].data(),
                  tm.tm_mday, kMonths[static_cast<std::size_t>(tm.tm_mon) % 12].data(), tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    return buf;
}

std::optional<std::int64_t> parse_http_date(std::string_view text) {
    text = trim(text);
    int year = 0, mon = -1, day = 0, h = 0, m = 0, s = 0;
    std::vector<std::string_view> w = split_spaces(text);
    if (w.size() == 6 && w[0].size() == 4 && w[0].back() == ',' && w[5] == "GMT") {
        // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
        if (!parse_int_exact(w[1], 2, day) || (mon = month_index(w[2])) < 0 ||
            !parse_int_exact(w[3], 4, year) || !parse_clock(w[4], h, m, s))
            return std::nullopt;
    } else if (w.size() == 4 && w[0].size() > 1 && w[0].back() == ',' && w[3] == "GMT") {
        // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT (RFC 9110 5.6.7: a two-digit
        // year more than 50 years ahead is in the past century).
        std::string_view d = w[1];
        if (d.size() != 9 || d[2] != '-' || d[6] != '-' || !parse_int_exact(d.substr(0, 2), 2, day) ||
            (mon = month_index(d.substr(3, 3))) < 0 || !parse_int_exact(d.substr(7, 2), 2, year) ||
            !parse_clock(w[2], h, m, s))
            return std::nullopt;
        std::time_t now = std::time(nullptr);
        struct tm now_tm;
        gmtime_r(&now, &now_tm);
        int this_year = now_tm.tm_year + 1900;
        year += (this_year / 100) * 100;
        if (year > this_year + 50) year -= 100;
    } else if (w.size() == 5) {
        // asctime: Sun Nov  6 08:49:37 1994
        if ((mon = month_index(w[1])) < 0 || w[2].empty() || w[2].size() > 2 ||
            !parse_int_exact(w[2], w[2].size(), day) || !parse_clock(w[3], h, m, s) ||
            !parse_int_exact(w[4], 4, year))
            return std::nullopt;
    } else {
        return std::nullopt;
    }
    if (day < 1 || day > 31) return std::nullopt;
    struct tm tm {};
    tm.tm_year = year - 1900;
    tm.tm_mon = mon;
    tm.tm_mday = day;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = s > 59 ? 59 : s;
    return static_cast<std::int64_t>(timegm(&tm));
}

std::string make_etag(const struct stat& st) {
    std::uint64_t mtime_ns = static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1000000000ull +
                             static_cast<std::uint64_t>(st.st_mtim.tv_nsec);
    char buf[80];
    std::snprintf(buf, sizeof buf, "\"%llx-%llx-%llx\"",
                  static_cast<unsigned long long>(st.st_ino),
                  static_cast<unsigned long long>(st.st_size),
                  static_cast<unsigned long long>(mtime_ns));
    return buf;
}

std::optional<EntityTag> parse_etag(std::string_view text) {
    EntityTag tag;
    if (text.starts_with("W/")) {
        tag.weak = true;
        text.remove_prefix(2);
    }
    // RFC 9110 8.8.3: opaque-tag = DQUOTE *etagc DQUOTE; etagc excludes '"'.
    if (text.size() < 2 || text.front() != '"' || text.back() != '"') return std::nullopt;
    for (std::size_t i = 1; i + 1 < text.size(); ++i) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c == '"' || c < 0x21 || c == 0x7f) return std::nullopt;
    }
    tag.opaque = std::string(text);
    return tag;
}

bool weak_match(const EntityTag& a, const EntityTag& b) { return a.opaque == b.opaque; }

bool strong_match(const EntityTag& a, const EntityTag& b) {
    return !a.weak && !b.weak && a.opaque == b.opaque;
}

bool etag_list_matches(std::string_view field, const std::optional<std::string>& etag, bool weak) {
    std::string_view value = trim(field);
    if (value == "*") return true;   // the representation exists (we only get here when it does)
    if (!etag) return false;
    std::optional<EntityTag> current = parse_etag(*etag);
    if (!current) return false;
    for (std::string_view member : split_list(value)) {
        std::optional<EntityTag> tag = parse_etag(member);
        if (!tag) continue;
        if (weak ? weak_match(*tag, *current) : strong_match(*tag, *current)) return true;
    }
    return false;
}

Precondition evaluate_preconditions(const ConditionalHeaders& h,
                                    const std::optional<std::string>& etag,
                                    std::int64_t last_modified) {
    // RFC 9110 13.2.2 step 1-2.
    if (h.if_match) {
        if (!etag_list_matches(*h.if_match, etag, /*weak=*/false)) return Precondition::failed;
    } else if (h.if_unmodified_since) {
        if (auto date = parse_http_date(*h.if_unmodified_since); date && last_modified > *date)
            return Precondition::failed;
    }
    // Step 3-4: If-None-Match takes precedence over If-Modified-Since.
    if (h.if_none_match) {
        if (etag_list_matches(*h.if_none_match, etag, /*weak=*/true)) return Precondition::not_modified;
    } else if (h.if_modified_since) {
        if (auto date = parse_http_date(*h.if_modified_since); date && last_modified <= *date)
            return Precondition::not_modified;
    }
    return Precondition::proceed;
}

// --- Range requests ----------------------------------------------------------

RangeResult parse_range(std::string_view field, std::uint64_t size) {
    RangeResult result;   // kind = ignore
    field = trim(field);
    // RFC 9110 14.1: range-unit is case-insensitive; we only know "bytes".
    std::size_t eq = field.find('=');
    if (eq == std::string_view::npos || !iequals(trim(field.substr(0, eq)), "bytes")) return result;
    std::vector<std::string_view> members = split_list(field.substr(eq + 1));
    if (members.empty() || members.size() > kMaxRanges) return result;

    std::vector<ByteRange> ranges;
    for (std::string_view member : members) {
        std::size_t dash = member.find('-');
        if (dash == std::string_view::npos) return result;
        std::string_view a = member.substr(0, dash), b = member.substr(dash + 1);
        std::uint64_t first = 0, last = 0;
        if (a.empty()) {
            // suffix-range "-n": the last n bytes; "-0" and empty files are
            // unsatisfiable (RFC 9110 14.1.2).
            if (!parse_u64(b, last)) return result;
            if (last == 0 || size == 0) continue;
            ranges.push_back({last >= size ? 0 : size - last, size - 1});
            continue;
        }
        if (!parse_u64(a, first)) return result;
        if (b.empty()) {
            last = UINT64_MAX;
        } else if (!parse_u64(b, last) || last < first) {
            return result;   // RFC 9110 14.1.1: last < first makes the field invalid
        }
        if (first >= size) continue;   // unsatisfiable member
        ranges.push_back({first, std::min(last, size - 1)});
    }
    if (ranges.empty()) {
        result.kind = RangeResult::Kind::unsatisfiable;
        return result;
    }
    // Coalesce overlapping or adjacent ranges (RFC 9110 14.2 permits it; it
    // defeats the many-overlapping-ranges attack).
    std::sort(ranges.begin(), ranges.end(),
              [](const ByteRange& x, const ByteRange& y) { return x.first < y.first; });
    std::vector<ByteRange> merged;
    for (const ByteRange& r : ranges) {
        if (!merged.empty() && r.first <= merged.back().last + 1)
            merged.back().last = std::max(merged.back().last, r.last);
        else
            merged.push_back(r);
    }
    result.kind = RangeResult::Kind::satisfiable;
    result.ranges = std::move(merged);
    return result;
}

bool if_range_matches(std::string_view field, const std::optional<std::string>& etag,
                      std::int64_t last_modified) {
    field = trim(field);
    if (field.starts_with("\"") || field.starts_with("W/")) {
        std::optional<EntityTag> tag = parse_etag(field);
        if (!tag || !etag) return false;
        std::optional<EntityTag> current = parse_etag(*etag);
        return current && strong_match(*tag, *current);
    }
    std::optional<std::int64_t> date = parse_http_date(field);
    return date && *date == last_modified;
}

std::string content_range(const ByteRange& range, std::uint64_t size) {
    return "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) + "/" +
           std::to_string(size);
}

MultipartLayout multipart_layout(const std::vector<ByteRange>& ranges, std::string_view content_type,
                                 std::uint64_t size, std::string_view boundary) {
    MultipartLayout layout;
    layout.content_type = "multipart/byteranges; boundary=" + std::string(boundary);
    for (const ByteRange& r : ranges) {
        MultipartLayout::Part part;
        part.head = "\r\n--" + std::string(boundary) + "\r\nContent-Type: " + std::string(content_type) +
                    "\r\nContent-Range: " + content_range(r, size) + "\r\n\r\n";
        part.range = r;
        layout.content_length += part.head.size() + r.length();
        layout.parts.push_back(std::move(part));
    }
    layout.tail = "\r\n--" + std::string(boundary) + "--\r\n";
    layout.content_length += layout.tail.size();
    return layout;
}

std::string make_boundary() {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    char buf[32];
    std::uint64_t a = rng(), b = rng();
    std::snprintf(buf, sizeof buf, "%016llx%08llx", static_cast<unsigned long long>(a),
                  static_cast<unsigned long long>(b & 0xffffffffull));
    return buf;
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
    std::string title = "Directory listing for " + html_escape(display_path);
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
        r += "<li><a href=\"" + percent_encode_path(link) + "\">" + html_escape(display) + "</a></li>\n";
    }
    r += "</ul>\n<hr>\n</body>\n</html>\n";
    return r;
}

}  // namespace sockhost::plugins::http_static
