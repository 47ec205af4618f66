// SPDX-License-Identifier: MIT
// Pure decision logic of http_static (no sockets, no handler): URL -> file
// mapping with containment, MIME types, Range, validators and conditional
// requests, directory listing HTML. Python counterpart: the helpers of
// http.server.SimpleHTTPRequestHandler (translate_path, guess_type,
// list_directory) plus what RFC 9110 adds.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sockhost::plugins::http_static {

// --- URL encoding and HTML escaping ---------------------------------------

/// Decodes %XX escapes ('+' stays '+': RFC 3986 paths have no form encoding).
/// nullopt when a '%' is not followed by two hex digits.
std::optional<std::string> percent_decode(std::string_view text);

/// Python's urllib.parse.quote(text, safe='/'): every byte but the RFC 3986
/// unreserved characters and '/' becomes %XX (upper-case hex). UTF-8 names
/// are encoded byte by byte.
std::string percent_encode_path(std::string_view text);

/// Python's html.escape(text, quote=True): & < > " ' as entities.
std::string html_escape(std::string_view text);

// --- Request target -> path inside the document root ----------------------

/// A request target reduced to a safe, normalised path below the root.
struct UrlPath {
    /// The decoded path segments, none empty, "." or "..": the file is
    /// root/segments[0]/segments[1]/... and nothing else.
    std::vector<std::string> segments;
    /// "/" + segments joined by "/" (decoded, no trailing slash but for "/").
    std::string path;
    /// The query without its '?', as sent (still percent-encoded).
    std::string query;
    bool has_query = false;
    /// The decoded path ended in '/' (Python's trailing_slash): a directory
    /// asked for without it is redirected, a file asked for with it is 404.
    bool trailing_slash = false;
};

/// What parse_target decided: status 0 and `url`, or the HTTP status to
/// answer (400 malformed or escaping, 404 hidden).
struct TargetResult {
    int status = 0;
    UrlPath url;
};

/// Maps a request-target to a path below the document root (Python's
/// translate_path, stricter):
///  - origin-form "/p?q#f" and absolute-form "http://host/p" (RFC 9112
///    3.2.2: the authority is dropped); the query and fragment are split off
///    before decoding; anything else (e.g. "*", "p") -> 400;
///  - the path is percent-decoded first, then split on '/'. So an encoded
///    "%2f" is a separator like '/', and "%2e%2e" is "..": neither can do
///    more than a literal "/" or ".." could;
///  - empty and "." segments are dropped; ".." removes the previous segment;
///    a ".." with nothing left to remove (an escape attempt) -> 400
///    (nginx's answer; Python silently clamps);
///  - a NUL byte (raw or %00) -> 400;
///  - a backslash is an ordinary file-name byte on POSIX (no separator
///    meaning): "/..\\x" names a file literally called "..\\x" in the root;
///  - with `show_dotfiles` false, a segment starting with '.' -> 404.
/// Leading "//" (protocol-relative forms) collapse like any repeated slash.
TargetResult parse_target(std::string_view target, bool show_dotfiles);

/// True when `name` would be hidden as a dotfile (starts with '.').
inline bool is_dotfile(std::string_view name) { return !name.empty() && name.front() == '.'; }

/// root / segments..., lexically (no file-system access).
std::filesystem::path join_segments(const std::filesystem::path& root,
                                    const std::vector<std::string>& segments);
/// The same as a plain string, one allocation: the per-request form (a
/// std::filesystem::path also allocates its list of components).
std::string join_segments_native(std::string_view root, const std::vector<std::string>& segments);

/// True when `path` equals `root` or lies below it, comparing whole
/// components (so "/srv/www2" is not inside "/srv/www"). Both must be
/// canonical (realpath) for the answer to mean anything.
bool is_within(const std::filesystem::path& root, const std::filesystem::path& path);

/// Checks that `path` resolves (realpath: every symlink followed) to a file
/// below `canonical_root`. Returns 0 and sets `resolved` when it does,
/// EXDEV when it resolves outside, or the errno of realpath (ENOENT, ...).
int resolve_within(const std::filesystem::path& canonical_root, const std::filesystem::path& path,
                   std::filesystem::path& resolved);

/// The one errno -> HTTP status mapping of the plugin: ENOENT, ENOTDIR,
/// ENAMETOOLONG, ELOOP -> 404; EACCES, EPERM, EXDEV (outside the root) -> 403;
/// anything else -> 500.
int status_for_errno(int err);

// --- MIME types ------------------------------------------------------------

/// Extension -> media type table (Python's mimetypes + the handler's
/// extensions_map).
class MimeTypes {
public:
    /// Built-in defaults, overridden by /etc/mime.types when it is readable.
    /// Built once per process (thread-safe static), then read-only.
    static const MimeTypes& system();
    /// A table from mime.types text ("type ext ext ...", '#' comments) over
    /// the built-in defaults.
    static MimeTypes from_text(std::string_view text, bool with_defaults = true);

    /// The media type for a file name by its last extension, lower-cased;
    /// "application/octet-stream" when unknown.
    std::string_view lookup(std::string_view filename) const;
    /// lookup() plus "; charset=utf-8" for text/*, application/javascript
    /// and application/json.
    std::string content_type(std::string_view filename) const;

    void add(std::string_view extension, std::string_view type);
    std::size_t size() const { return map_.size(); }

private:
    std::vector<std::pair<std::string, std::string>> map_;   // sorted by extension
    bool sorted_ = true;
    void sort();
};

// --- Validators and conditional requests (RFC 9110 8.8, 13) ---------------

/// Parses an HTTP-date in any of the three forms RFC 9110 5.6.7 requires
/// recipients to accept (IMF-fixdate, RFC 850, asctime); seconds since the
/// epoch, nullopt when malformed.
std::optional<std::int64_t> parse_http_date(std::string_view text);

/// RFC 9110 5.6.7 IMF-fixdate of `t` (seconds since the epoch):
/// "Sun, 06 Nov 1994 08:49:37 GMT"; locale-independent.
std::string format_http_date(std::int64_t t);

/// Strong entity tag from inode, size and mtime (ns): "\"<ino>-<size>-<mtime>\""
/// in hex. Strong because any write changes mtime and the tag is used for
/// byte ranges (RFC 9110 8.8.1; If-Range needs a strong tag, 13.1.5).
std::string make_etag(const struct stat& st);

/// One entity tag of a list: opaque-tag with quotes and the weak flag.
struct EntityTag {
    bool weak = false;
    std::string opaque;   // with the quotes
};
/// Parses "W/\"x\"" or "\"x\""; nullopt when malformed.
std::optional<EntityTag> parse_etag(std::string_view text);
/// RFC 9110 8.8.3.2 weak comparison: opaque tags equal, weak flags ignored.
bool weak_match(const EntityTag& a, const EntityTag& b);
/// RFC 9110 8.8.3.2 strong comparison: both strong and opaque tags equal.
bool strong_match(const EntityTag& a, const EntityTag& b);
/// Does the If-None-Match / If-Match field value match `etag` (the
/// representation's current tag, nullopt when it has none)? "*" matches any
/// existing representation. `weak` selects the comparison (If-None-Match:
/// weak, If-Match: strong). A malformed member matches nothing.
bool etag_list_matches(std::string_view field, const std::optional<std::string>& etag, bool weak);

/// Result of evaluating the preconditions of a GET/HEAD.
enum class Precondition { proceed, not_modified, failed };

/// What evaluate_preconditions reads from the request (absent = nullopt).
struct ConditionalHeaders {
    std::optional<std::string> if_match = std::nullopt;
    std::optional<std::string> if_none_match = std::nullopt;
    std::optional<std::string> if_modified_since = std::nullopt;
    std::optional<std::string> if_unmodified_since = std::nullopt;
};

/// RFC 9110 13.2.2 order for GET/HEAD: If-Match (false -> 412), else
/// If-Unmodified-Since (false -> 412); then If-None-Match (false -> 304),
/// else If-Modified-Since (not modified -> 304). Dates compare in whole
/// seconds; invalid dates are ignored (RFC 9110 13.1.3, 13.1.4).
Precondition evaluate_preconditions(const ConditionalHeaders& h,
                                    const std::optional<std::string>& etag,
                                    std::int64_t last_modified);

// --- Range requests (RFC 9110 14) ------------------------------------------

/// An inclusive byte range [first, last] of a representation.
struct ByteRange {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    std::uint64_t length() const { return last - first + 1; }
    bool operator==(const ByteRange&) const = default;
};

/// What a Range header asks of a representation of `size` bytes.
struct RangeResult {
    enum class Kind {
        ignore,          // no/malformed/unsupported Range: serve 200 with everything
        satisfiable,     // 206 with `ranges` (one, or several for multipart)
        unsatisfiable,   // 416 with Content-Range: bytes */size
    };
    Kind kind = Kind::ignore;
    std::vector<ByteRange> ranges;
};

/// At most this many ranges per request; more are ignored (200), as nginx
/// does (max_ranges) against RFC 9110 14.2's denial-of-service concern.
inline constexpr std::size_t kMaxRanges = 16;

/// Parses a Range field value (RFC 9110 14.1.1, 14.2): "bytes=" then a
/// comma list of "a-b", "a-", "-n" (optional whitespace around members).
///  - another unit, or any malformed member (a > b, no digits, junk) -> ignore;
///  - ranges starting at or beyond `size`, and "-0", are unsatisfiable;
///    clamped otherwise ("a-" and a too-large "b" end at size-1);
///  - no satisfiable member -> unsatisfiable (416);
///  - overlapping or adjacent ranges are coalesced (RFC 9110 14.2 allows it),
///    after which the ranges are in ascending order;
///  - more than kMaxRanges members -> ignore.
RangeResult parse_range(std::string_view field, std::uint64_t size);

/// RFC 9110 13.1.5 If-Range: true when Range may be honoured. An entity-tag
/// must strongly match `etag`; an HTTP-date must equal `last_modified`
/// exactly. Anything else (weak tag, bad date, no etag) -> false.
bool if_range_matches(std::string_view field, const std::optional<std::string>& etag,
                      std::int64_t last_modified);

/// "bytes a-b/size"
std::string content_range(const ByteRange& range, std::uint64_t size);

/// A multipart/byteranges body (RFC 9110 14.6) laid out before sending:
/// for each range its part head, then the file bytes, then `tail`.
struct MultipartLayout {
    struct Part {
        std::string head;   // "\r\n--B\r\nContent-Type: t\r\nContent-Range: ...\r\n\r\n"
        ByteRange range;
    };
    std::string content_type;     // "multipart/byteranges; boundary=B"
    std::vector<Part> parts;
    std::string tail;             // "\r\n--B--\r\n"
    std::uint64_t content_length = 0;
};
MultipartLayout multipart_layout(const std::vector<ByteRange>& ranges, std::string_view content_type,
                                 std::uint64_t size, std::string_view boundary);
/// A fresh boundary: 24 random hex digits (never in a file by more than chance).
std::string make_boundary();

// --- Directory listing -----------------------------------------------------

/// One directory entry as the listing shows it.
struct ListingEntry {
    std::string name;
    bool is_dir = false;       // the entry (followed) is a directory: "name/"
    bool is_symlink = false;   // the entry itself is a symlink: shown "name@"
};

/// Python's list_directory ordering: case-insensitive (ASCII), ties by bytes.
void sort_listing(std::vector<ListingEntry>& entries);

/// Python's list_directory page for `display_path` (the decoded URL path,
/// e.g. "/docs/"): names html-escaped, links percent-encoded (directories
/// with a trailing '/', the display with '/' or '@'), UTF-8. Entries are
/// rendered in the order given (call sort_listing first).
std::string render_listing(std::string_view display_path, const std::vector<ListingEntry>& entries);

}  // namespace sockhost::plugins::http_static
