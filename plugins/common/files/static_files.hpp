// SPDX-License-Identifier: MIT
// Pure decision logic of file serving (no sockets, no handler): URL -> file
// mapping with containment, MIME types, directory listing HTML. Python
// counterpart: the helpers of http.server.SimpleHTTPRequestHandler
// (translate_path, guess_type, list_directory). The RFC 9110 generics it
// serves files with (dates, ETags, conditional and Range requests) are the
// SDK's: sockhost/sdk/http/{date,etag,conditional,range}.hpp.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sockhost::plugins::files {

// --- URL encoding -----------------------------------------------------------

/// Decodes %XX escapes ('+' stays '+': RFC 3986 paths have no form encoding).
/// nullopt when a '%' is not followed by two hex digits.
std::optional<std::string> percent_decode(std::string_view text);

/// Python's urllib.parse.quote(text, safe='/'): every byte but the RFC 3986
/// unreserved characters and '/' becomes %XX (upper-case hex). UTF-8 names
/// are encoded byte by byte.
std::string percent_encode_path(std::string_view text);

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

/// The one errno -> HTTP status mapping of file serving: ENOENT, ENOTDIR,
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

}  // namespace sockhost::plugins::files
