// SPDX-License-Identifier: MIT
// Pure CGI/1.1 logic of the cgi plugin (no sockets, no processes): where a
// script is in a URL path, the RFC 3875 meta-variables, the script's
// response header block, Basic credentials. Python counterpart: the helpers
// of http.server.CGIHTTPRequestHandler (is_cgi, run_cgi's env building).
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sockhost/sdk/http/base_http_request_handler.hpp>

namespace sockhost::plugins::cgi {

// --- Where the script is -----------------------------------------------------

/// Parses one `cgi_directories` entry ("/cgi-bin", "/a/b/") into its
/// segments. nullopt when it does not start with '/', names the root
/// itself, or has an empty-after-normalising, "." or ".." segment.
std::optional<std::vector<std::string>> parse_cgi_directory(std::string_view dir);

/// The length (in segments) of the longest CGI directory that `segments`
/// (a normalised, decoded URL path) lies in or equals; nullopt when none.
/// Matching is on whole segments after decoding and normalising, so
/// "/cgi-bin%2fx", "//cgi-bin/x" and "/a/../cgi-bin/x" all match "/cgi-bin".
std::optional<std::size_t> match_cgi_directory(const std::vector<std::string>& segments,
                                               const std::vector<std::vector<std::string>>& dirs);

/// What locate_script found.
struct ScriptLocation {
    int status = 0;              // 0 found; 404 nothing there; 403 a directory or not a file
    std::size_t script_len = 0;  // segments[0, script_len) name the script
};

/// stat(2)-like probe: fills `st` and returns 0, or returns an errno.
using StatFn = std::function<int(const std::filesystem::path&, struct stat&)>;

/// Finds the script in `segments` below the CGI directory of `dir_len`
/// segments: the first path component after it that is a regular file (RFC
/// 3875 3.3: the rest of the path is PATH_INFO). Directories are walked
/// through; a missing component answers 404; a FIFO, device or socket 403;
/// a path that is directories all the way (e.g. "/cgi-bin/") 403.
ScriptLocation locate_script(const std::filesystem::path& root,
                             const std::vector<std::string>& segments, std::size_t dir_len,
                             const StatFn& stat_fn);

/// "/" + segments[from, to) joined by "/"; "" for an empty range.
std::string join_url(const std::vector<std::string>& segments, std::size_t from, std::size_t to);

/// PATH_INFO for the segments after the script (RFC 3875 4.1.5: decoded,
/// "" or "/" path): "/a/b", plus a trailing '/' when the URL had one; "/"
/// for "script/"; "" when nothing follows the script.
std::string path_info_for(const std::vector<std::string>& segments, std::size_t script_len,
                          bool trailing_slash);

// --- Meta-variables (RFC 3875 4.1) -------------------------------------------

/// AUTH_TYPE / REMOTE_USER from an Authorization field, decoded exactly as
/// Python's CGIHTTPRequestHandler does: the value must split (on
/// whitespace) into exactly two words; the first is AUTH_TYPE; for "Basic"
/// (any case) the second is base64-decoded (binascii's lenient decoder:
/// non-alphabet bytes skipped, padding required), must be ASCII and split on
/// ':' into exactly two parts, the first of which is REMOTE_USER.
struct AuthInfo {
    std::optional<std::string> auth_type;
    std::optional<std::string> remote_user;
};
AuthInfo decode_authorization(std::string_view field);

/// Base64 decoding as Python's binascii.a2b_base64 (strict_mode=False):
/// bytes outside the alphabet are skipped, a complete pad ends the data, and
/// a partial final quantum is an error (nullopt).
std::optional<std::string> base64_decode_lenient(std::string_view text);

/// The meta-variable for a request header field (RFC 3875 4.1.18):
/// "HTTP_" + name upper-cased with '-' -> '_'. nullopt for fields that must
/// not become HTTP_*: Proxy (httpoxy, CVE-2016-5385), Authorization and
/// Proxy-Authorization (4.1.18: SHOULD remove credentials), Content-Type and
/// Content-Length (given as CONTENT_TYPE / CONTENT_LENGTH), Transfer-Encoding
/// (the script reads a de-chunked body), and any name containing '_' (it
/// would collide with the '-' spelling: "X_Forwarded-For" could forge
/// HTTP_X_FORWARDED_FOR; Apache 2.4 and nginx drop them too).
std::optional<std::string> header_meta_variable(std::string_view field_name);

/// SERVER_NAME (RFC 3875 4.1.14): the host part of the Host field when it
/// is a plain host name or IP literal ([A-Za-z0-9.-], or "[v6]"), else
/// `fallback` (the bound address).
std::string server_name_for(std::optional<std::string_view> host_field, std::string_view fallback);

/// Everything build_environment needs to know about one request.
struct CgiRequest {
    std::string method;              // REQUEST_METHOD
    std::string protocol;            // SERVER_PROTOCOL ("HTTP/1.1")
    std::string script_name;         // SCRIPT_NAME ("/cgi-bin/sub/x.sh", decoded)
    std::string path_info;           // PATH_INFO ("" or "/...", decoded)
    std::string path_translated;     // PATH_TRANSLATED (unset when path_info is "")
    std::string query;               // QUERY_STRING (after the first '?', as sent)
    std::string remote_addr;         // REMOTE_ADDR (and REMOTE_HOST: no DNS)
    std::string server_name;         // SERVER_NAME
    std::string server_port;         // SERVER_PORT
    std::string server_software;     // SERVER_SOFTWARE
    bool with_body = false;          // CONTENT_TYPE/CONTENT_LENGTH apply
    std::optional<std::uint64_t> content_length;   // unset for chunked bodies
};

/// PATH given to every script; nothing of the host's environment is passed.
inline constexpr std::string_view kScriptPath = "/usr/local/bin:/usr/bin:/bin";

/// The script's whole environment as "NAME=value" strings (RFC 3875 4.1):
/// AUTH_TYPE, CONTENT_LENGTH, CONTENT_TYPE, GATEWAY_INTERFACE=CGI/1.1,
/// PATH_INFO, PATH_TRANSLATED, QUERY_STRING, REMOTE_ADDR, REMOTE_HOST,
/// REMOTE_USER, REQUEST_METHOD, SCRIPT_NAME, SERVER_NAME, SERVER_PORT,
/// SERVER_PROTOCOL, SERVER_SOFTWARE, one HTTP_* per request field name
/// (repeated fields joined with ", ", Cookie with "; " as RFC 9113 8.2.3
/// rejoins it), and PATH=kScriptPath. Unset variables are left out (4.1:
/// NULL and unset are the same to a script). A value containing NUL (only
/// a decoded REMOTE_USER can) is left out.
std::vector<std::string> build_environment(const CgiRequest& request,
                                           const sdk::http::Headers& headers);

// --- The script's response (RFC 3875 6) ----------------------------------------

/// What the script's header block says, once parsed and classified.
struct CgiResponse {
    enum class Kind {
        document,          // 6.2.1 (and 6.2.4): a status, fields and a body
        local_redirect,    // 6.2.2: Location is a local path, no Status: re-dispatch
        client_redirect,   // 6.2.3: Location is an absolute URI, no Status: 302
    };
    Kind kind = Kind::document;
    int status = 200;
    std::string reason;                           // "" = the standard phrase
    std::optional<std::string> location;
    std::optional<std::uint64_t> content_length;  // the script's Content-Length
    /// Fields to send, in order (Content-Type, Location and the script's
    /// own fields; Status, framing and hop-by-hop fields removed).
    std::vector<std::pair<std::string, std::string>> fields;
};

/// Result of feeding the script's output so far to parse_header_block.
struct HeaderBlockResult {
    enum class State { need_more, done, invalid };
    State state = State::need_more;
    std::size_t consumed = 0;   // bytes of the block incl. the blank line (done)
    CgiResponse response;       // done
    std::string error;          // invalid: why, for the log
};

/// Longest header block accepted from a script.
inline constexpr std::size_t kMaxHeaderBlock = 64 * 1024;

/// Parses the CGI header block at the start of `data` (RFC 3875 6.3): lines
/// end in LF or CRLF, a blank line ends the block. Each line is
/// "name: value" with a token name and a value free of control characters
/// (but HTAB); continuation lines are refused. Status ("3DIGIT reason",
/// 200..599), Location and Content-Type may appear once each; at least one
/// of them must (6.2). Content-Length must be digits. Date, Server,
/// Connection, Keep-Alive, Transfer-Encoding, TE, Trailer, Upgrade and
/// Proxy-Connection are dropped: the server owns framing and those fields.
/// need_more until a blank line arrives; invalid once `max_size` bytes hold
/// none.
HeaderBlockResult parse_header_block(std::string_view data, std::size_t max_size = kMaxHeaderBlock);

// --- stderr ------------------------------------------------------------------

/// Splits a script's stderr into log lines with bounds: a line longer than
/// `max_line` is cut (the rest of it dropped), and after `max_lines` lines
/// one "(further stderr output dropped)" line is emitted and nothing more.
class LineSplitter {
public:
    using Sink = std::function<void(std::string_view line)>;
    LineSplitter(Sink sink, std::size_t max_line = 1024, std::size_t max_lines = 100);
    /// Feeds bytes; complete lines (LF or CRLF) go to the sink.
    void feed(std::string_view data);
    /// End of stream: a last unterminated line goes to the sink.
    void finish();

private:
    void emit();
    Sink sink_;
    std::size_t max_line_;
    std::size_t max_lines_;
    std::size_t lines_ = 0;
    bool overlong_ = false;
    bool stopped_ = false;
    std::string line_;
};

}  // namespace sockhost::plugins::cgi
