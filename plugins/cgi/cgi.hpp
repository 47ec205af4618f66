// SPDX-License-Identifier: MIT
// cgi: CGI/1.1 scripts (RFC 3875) beside static files. Python counterpart:
// http.server.CGIHTTPRequestHandler, done right: no shell, no host
// environment, no Proxy -> HTTP_PROXY, streamed bodies both ways, bounded
// run time, every child reaped by its pid.
//
// [server.options] (every key optional; http_static's keys and the HTTP
// layer's limits such as max_body_size or send_timeout are accepted too and
// mean what they mean there; any other key is an error at start-up):
//
//   [server.options]
//   # --- files, exactly as http_static serves them ----------------------
//   directory       = "www"      # string, default ".": the document root (scripts live in it too)
//   index           = ["index.html", "index.htm"]   # directory index files
//   listing         = true       # bool: HTML listing of directories without an index
//   follow_symlinks = false      # bool: false = nothing outside `directory`, scripts included
//   show_dotfiles   = false      # bool: false = dot segments answer 404, scripts included
//   cache_control   = "max-age=3600"   # string, default unset: Cache-Control on files
//   etag            = true       # bool: strong ETags on files
//   # --- HTTP layer (sdk::http::Limits), as for every HTTP plugin -------------
//   max_request_line       = 8192       # bytes -> 414
//   max_header_count       = 100        # fields -> 431
//   max_header_size        = 16384      # bytes, whole head -> 431
//   max_body_size          = 10485760   # bytes; also caps what a script's stdin gets -> 413
//   header_timeout         = 10.0       # s for the whole request head -> 408
//   body_timeout           = 30.0       # s of body inactivity (while a script waits for it: up to twice that)
//   send_timeout           = 30.0       # s of send inactivity (a slow client stalls the script)
//   keepalive_timeout      = 15.0       # s idle between requests
//   max_keepalive_requests = 1000       # then close
//   # --- CGI -------------------------------------------------------------
//   cgi_directories = ["/cgi-bin", "/htbin"]
//                                # array of strings, default as shown: URL paths whose
//                                # files are run, not served. Matched on whole segments
//                                # AFTER percent-decoding and normalising the request
//                                # path, so "/cgi-bin%2fx", "//cgi-bin/x" and
//                                # "/a/../cgi-bin/x" all run /cgi-bin/x. Sub-directories
//                                # count ("/cgi-bin/sub/x"). Each must start with '/' and
//                                # name a directory below the root (not "/" itself).
//                                # [] = no CGI at all.
//   cgi_timeout     = 30.0       # number (s) > 0, default 30: wall-clock limit of one
//                                # run. Past it the script's process group is SIGKILLed
//                                # and reaped; the client gets 504, or a closed
//                                # connection when the response had begun.
//   max_cgi         = 16         # integer 1..4096, default 16: scripts running at once
//                                # per server; beyond it a request waits for a slot
//                                # (cgi_queue_timeout). Under `concurrency = "forking"`
//                                # each connection is its own process with its own
//                                # counter (one script at a time), so there the bound
//                                # is the host's max_children.
//   cgi_queue_timeout = 10.0     # number (s) in [0, 3600], default 10: how long a
//                                # request waits for a script slot, first come first
//                                # served, before 503 Service Unavailable with
//                                # Retry-After (that many seconds, at least 1). 0 =
//                                # 503 at once. The wait holds the request's thread
//                                # (under event: a pool thread, as the script would).
//   cgi_user        = "nobody"   # string, default "nobody": when the host runs as root
//                                # (euid 0), scripts run as this user (setgroups, setgid,
//                                # setuid before exec; any failure = not run). Must exist
//                                # when the host is root (checked at start-up); ignored
//                                # otherwise.
//   body_buffer_size = 16384     # integer 0..1073741824 (bytes), default 16 KiB (nginx's
//                                # client_body_buffer_size): a chunked request body is
//                                # read whole before its script starts, so that the
//                                # script gets CONTENT_LENGTH; up to this size in
//                                # memory, beyond it in an unlinked temporary file.
//                                # max_body_size bounds it (413). Bodies with a
//                                # Content-Length are streamed, never held.
//   body_temp_dir   = "/tmp"     # string, default $TMPDIR (when absolute) or /tmp
//                                # (nginx's client_body_temp_path): where those files
//                                # are made (O_TMPFILE: they never have a name; else
//                                # mkostemp + unlink). Must be an existing directory.
//
// Request handling:
//  - A path under a CGI directory runs the first path component that is a
//    regular file; the rest is PATH_INFO (RFC 3875 3.3, 4.1.5). Missing ->
//    404; a directory, FIFO or device -> 403; not executable (no x bit, or
//    execve says EACCES, e.g. for cgi_user) -> 403. Any method runs a script
//    (RFC 3875 4.1.12); other paths serve GET/HEAD like http_static and
//    answer 501 to anything else.
//  - The script is execve'd directly (no shell), argv = [script path]: a
//    query without '=' is NOT turned into arguments (RFC 3875 4.4 is a
//    SHOULD that servers MAY decline; argv from the URL is how php-cgi's
//    "?-s" flaw, CVE-2012-1823, worked). Scripts read QUERY_STRING.
//  - Environment: only the RFC 3875 4.1 meta-variables, HTTP_* fields and
//    PATH=/usr/local/bin:/usr/bin:/bin (see build_environment). Working
//    directory: the script's own (RFC 3875 7.2).
//  - A request body with a Content-Length (after 100-continue) is streamed
//    to stdin as it arrives, never held whole. A chunked one is de-chunked
//    and read whole first (SpooledBody: memory up to body_buffer_size, then
//    a temporary file), then given to the script with its CONTENT_LENGTH
//    (RFC 3875 4.1.2: scripts read exactly that many bytes). Either way
//    stdin ends at EOF after the body (4.2).
//  - stdout: the header block (RFC 3875 6.3; at most 64 KiB) is parsed:
//    Status, Content-Type, Location and other fields. A Location that is a
//    local path with no Status is a local redirect (6.2.2): the server
//    answers GET for that path itself (HEAD stays HEAD), at most 5 times in a
//    row, then 500. An absolute Location with no Status is a 302 (6.2.3).
//    The body is streamed: with the script's Content-Length when it gave one,
//    else chunked on HTTP/1.1, else until close (HTTP/1.0).
//  - No valid header block (malformed, or EOF / exit before it) -> 502 and a
//    log line with the exit status.
//  - The client gone while the script runs (reset, close, or a FIN after
//    the whole body): its process group is SIGKILLed and reaped at once,
//    nothing more is sent (CgiExchange::client_gone).
//  - stderr: one host log line per line ("cgi /cgi-bin/x: ..."), lines cut at
//    1 KiB, at most 100 lines per run.
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <mutex>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sockhost/sdk.hpp>
#include <sockhost/sdk/http/base_http_request_handler.hpp>

#include "files/config.hpp"
#include "files/handler.hpp"
#include "cgi_body.hpp"
#include "cgi_process.hpp"
#include "cgi_protocol.hpp"

namespace sockhost::plugins::cgi {

/// The CGI options of one server, parsed and checked once at start-up;
/// shared read-only by its handlers.
struct CgiConfig {
    std::vector<std::string> cgi_directories{"/cgi-bin", "/htbin"};
    std::vector<std::vector<std::string>> directory_segments;   // parsed cgi_directories
    double cgi_timeout = 30.0;
    std::size_t max_cgi = 16;
    double cgi_queue_timeout = 10.0;
    std::string cgi_user = "nobody";
    std::size_t body_buffer_size = 16 * 1024;
    std::filesystem::path body_temp_dir;   // default_temp_dir() unless set
    /// cgi_user's ids when the account exists (applied only when euid == 0).
    std::optional<Credentials> user;

    /// Reads and checks the CGI keys. Throws sdk::OptionError naming the key.
    static CgiConfig from_options(const sdk::Options& options);
};

/// The option keys the cgi plugin adds to http_static's.
inline constexpr std::array<std::string_view, 7> kCgiOptionKeys{
    "cgi_directories", "cgi_timeout", "max_cgi", "cgi_queue_timeout", "cgi_user", "body_buffer_size",
    "body_temp_dir"};

/// Local redirects followed for one request before giving up with 500.
inline constexpr int kMaxLocalRedirects = 5;

/// Counts the scripts a server runs at once (max_cgi), and queues the
/// requests that wait for one to end (cgi_queue_timeout), first come first
/// served. Shared by the server's handlers on any thread; per process under
/// forking (where a connection runs one script at a time and never waits).
class CgiLimiter {
public:
    using Clock = std::chrono::steady_clock;

    explicit CgiLimiter(std::size_t max) : max_(max) {}
    /// Takes a slot, waiting up to `wait` behind the requests that came
    /// first; false when none came in time.
    bool acquire(Clock::duration wait);
    /// Takes a slot only if one is free and nobody waits for it.
    bool try_acquire() { return acquire(Clock::duration::zero()); }
    void release();
    std::size_t running() const;
    std::size_t waiting() const;

private:
    mutable std::mutex mutex_;
    std::condition_variable freed_;
    std::size_t running_ = 0;
    std::deque<std::uint64_t> queue_;   // tickets of the waiting requests, oldest first
    std::uint64_t next_ticket_ = 0;
    std::size_t max_;
};

/// PluginInfo::validate_options: HTTP keys + files::kOptionKeys +
/// kCgiOptionKeys, nothing else; then both configs parse. Throws
/// sdk::OptionError.
void validate_options(const sdk::Options& options);

/// PluginInfo::make_factory: parses the options once; the handlers of the
/// server share both configs and one CgiLimiter. Stream transport only.
sdk::HandlerFactory make_factory(const sdk::Options& options);

/// CGIHTTPRequestHandler: SimpleHTTPRequestHandler plus scripts under the
/// CGI directories. One object per connection (keep-alive loop in the base).
class CGIHTTPRequestHandler : public files::SimpleHTTPRequestHandler {
public:
    /// All three are shared with the server's other handlers; none null.
    CGIHTTPRequestHandler(std::shared_ptr<const files::Config> file_config,
                          std::shared_ptr<const CgiConfig> cgi, std::shared_ptr<CgiLimiter> limiter);
    ~CGIHTTPRequestHandler() override;

protected:
    /// Every method goes to route(): scripts take any method, files GET/HEAD.
    void dispatch() override { route(); }
    const CgiConfig& cgi_config() const { return *cgi_; }
    /// Parses the request-target and either runs a script (following local
    /// redirects) or serves the file. Sends exactly one response.
    void route();
    /// Runs the script `url` names below the CGI directory of `dir_len`
    /// segments and sends its response, or an error. `with_body`: the
    /// request body goes to its stdin (false after a local redirect).
    /// Returns the Location of a local redirect, which the caller follows.
    /// May be overridden.
    virtual std::optional<std::string> run_cgi(const files::UrlPath& url, std::size_t dir_len,
                                               bool with_body);

private:
    /// 503 with Retry-After (RFC 9110 15.6.4, 10.2.3) and send_error's page.
    void send_unavailable(std::string_view message);
    /// Reads the (chunked) request body whole into memory or a temporary
    /// file; nullopt when that failed and an error was answered. Throws
    /// sdk::http::RequestAborted as read_body_some() does.
    std::optional<SpooledBody> spool_body(const std::string& script_name);

    std::shared_ptr<const CgiConfig> cgi_;
    std::shared_ptr<CgiLimiter> limiter_;
};

}  // namespace sockhost::plugins::cgi
