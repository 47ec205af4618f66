// SPDX-License-Identifier: MIT
// BaseHTTPRequestHandler: http.server.BaseHTTPRequestHandler over HTTP/1.1.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sockhost/sdk/abi.hpp"
#include "sockhost/sdk/errors.hpp"
#include "sockhost/sdk/options.hpp"
#include "sockhost/sdk/stream_request_handler.hpp"

namespace sockhost::sdk::http {

/// Header fields in arrival order; names compare case-insensitively.
class SOCKHOST_SDK_API Headers {
public:
    using Field = std::pair<std::string, std::string>;
    void add(std::string name, std::string value);
    /// The first value of `name`, if present.
    std::optional<std::string_view> get(std::string_view name) const;
    /// Every value of `name` joined with `separator` ("" when absent).
    std::string get_all(std::string_view name, std::string_view separator = ", ") const;
    bool contains(std::string_view name) const;
    const std::vector<Field>& fields() const { return fields_; }
    std::size_t size() const { return fields_.size(); }
    void clear() { fields_.clear(); }

private:
    std::vector<Field> fields_;
};

/// Per-server HTTP limits, read from [server.options] (keys in parentheses).
struct SOCKHOST_SDK_API Limits {
    std::size_t max_request_line = 8192;          // (max_request_line) -> 414
    std::size_t max_header_count = 100;           // (max_header_count) -> 431
    std::size_t max_header_size = 16 * 1024;      // (max_header_size), whole head -> 431
    std::uint64_t max_body_size = 10 * 1024 * 1024;  // (max_body_size) -> 413
    double header_timeout = 10.0;                 // (header_timeout) s for the whole head -> 408
    double body_timeout = 30.0;                   // (body_timeout) s of body inactivity
    double send_timeout = 30.0;                   // (send_timeout) s of send inactivity
    double keepalive_timeout = 15.0;              // (keepalive_timeout) s idle between requests
    std::uint64_t max_keepalive_requests = 1000;  // (max_keepalive_requests) then close

    /// Reads the keys above; OptionError on a wrong type or range.
    static Limits from_options(const Options& options);
    /// The option keys Limits reads, for plugins' require_known lists.
    static const std::vector<std::string_view>& option_keys();
};

/// Checks the HTTP layer's keys (via Limits::from_options) and that every key
/// is either an HTTP key or in `plugin_keys`. For plugins' validate_options.
SOCKHOST_SDK_API void validate_http_options(const Options& options,
                                            std::initializer_list<std::string_view> plugin_keys);

/// Reason phrase for a status code ("Not Found"); "" when unknown.
SOCKHOST_SDK_API std::string_view reason_phrase(int code);

/// Thrown by read_body() / read_body_some() when the request cannot go on:
/// the body is too large (413 already answered), malformed (400), timed out
/// (408), or the client went away. The connection closes; a plugin need not
/// catch it: handle_one_request() does, without logging it as an error.
class SOCKHOST_SDK_API RequestAborted : public HandlerError {
public:
    explicit RequestAborted(const std::string& message);
    ~RequestAborted() override;
};

/// Serves HTTP/1.x on one connection: parses each request, dispatches it to
/// do_<METHOD>, loops while keep-alive allows. A plugin author overrides only
/// the do_ methods it supports; the rest answer 501.
class SOCKHOST_SDK_API BaseHTTPRequestHandler : public StreamRequestHandler {
public:
    BaseHTTPRequestHandler();
    ~BaseHTTPRequestHandler() override;

    /// Reads the limits from the server's options. Call the base first.
    void setup() override;
    /// The keep-alive loop: handle_one_request() until close_connection.
    /// Do not override.
    void handle() override;
    /// Reads, parses and answers one request. The per-request entry point.
    virtual void handle_one_request();

    // --- Method handlers. May be overridden; the defaults answer 501. -----
    virtual void do_GET();
    virtual void do_HEAD();
    virtual void do_POST();
    virtual void do_PUT();
    virtual void do_DELETE();
    virtual void do_OPTIONS();
    virtual void do_PATCH();
    /// Any other method token (in `command`).
    virtual void do_other();

    // --- The current request (valid from dispatch until the next request;
    // under concurrency = "event" `headers`, `path` and `raw_requestline`
    // are emptied, their memory released, when the connection is parked to
    // wait for its next request) ---
    std::string command;            // "GET"
    std::string path;               // request-target as sent: "/a%20b?q=1"
    std::string request_version;    // "HTTP/1.1"
    std::string raw_requestline;    // without CRLF
    Headers headers;
    /// Set to true to close after this response (also set by the parser for
    /// HTTP/1.0 without keep-alive, Connection: close, errors).
    bool close_connection = true;

    /// The declared body length (Content-Length), nullopt for chunked or none.
    std::optional<std::uint64_t> content_length() const;
    /// True when the request carries a body (Content-Length > 0 or chunked).
    bool has_body() const;
    /// Reads the whole body (dechunked). Sends "100 Continue" first when the
    /// client asked for it. Answers 413 and throws when it exceeds max_body_size.
    /// Throws RequestAborted (after 413/400/408, or none when the client left).
    std::string read_body();
    /// Streams the body: up to n bytes, 0 at its end. Each wait is bounded by
    /// body_timeout. A body the handler leaves unread is drained (up to 64 KiB)
    /// before the next request, or the connection closes.
    std::size_t read_body_some(char* buffer, std::size_t n);

    // --- Building the response (http.server's names) -----------------------
    /// Status line + Server + Date headers; the request is logged (Common Log
    /// Format, with the body size) once the response is complete.
    void send_response(int code, std::string_view message = {});
    /// Status line only (no Server/Date, no log).
    void send_response_only(int code, std::string_view message = {});
    /// Adds a field (std::invalid_argument for a non-token name or CR/LF/NUL in
    /// the value). "Connection: close"/"keep-alive" set close_connection. A
    /// Location value starting with "//", "/\" or "\" (a scheme-relative URL,
    /// i.e. an open redirect) is rewritten to start with a single "/".
    void send_header(std::string_view name, std::string_view value);
    /// Ends the head and writes it (one write with a small body when possible).
    /// Adds "Connection: close" when the connection will close (also when the
    /// response has neither Content-Length nor chunked framing), and
    /// "Connection: keep-alive" for a persistent HTTP/1.0 client.
    void end_headers();
    /// HTML error page as Python's (no body for 1xx/204/304 and HEAD);
    /// closes the connection for 4xx/5xx protocol errors the parser found.
    void send_error(int code, std::string_view message = {}, std::string_view explain = {});
    /// Writes body bytes after end_headers() (which it calls if needed);
    /// dropped for HEAD, 1xx, 204 and 304, which have no content.
    void write_body(std::string_view data);
    /// Sends a file region after end_headers() (zero-copy where possible);
    /// dropped like write_body's.
    void send_file(int fd, off_t offset, std::size_t count);

    // --- Logging (control characters escaped) ------------------------------
    /// Common Log Format line: host - - [date] "request line" code size.
    void log_request(int code, std::optional<std::size_t> size = std::nullopt);
    void log_error(std::string_view message);
    void log_message(std::string_view message);

    /// RFC 9110 IMF-fixdate of `t` (seconds since the epoch).
    static std::string date_time_string(std::int64_t t);
    /// The current time, formatted (cached for a second).
    static std::string date_time_string();

    /// "sockhost/0.1" by default; the Server header is server_version.
    std::string server_version;
    /// The protocol the responses claim: "HTTP/1.1".
    std::string protocol_version = "HTTP/1.1";
    const Limits& limits() const { return limits_; }

    // --- concurrency = "event" (SDK ABI 1.1) --------------------------------
    // handle() in slices, for a host that parks idle connections. Non-virtual
    // on purpose: the vtable of ABI 1.0 stays as it was. The host reaches
    // them through sdk::resumable(handler). Do not call them from a plugin.

    /// Answers every request whose head has arrived (pipelined ones too),
    /// reading only what the socket already holds; a head still incomplete
    /// is left buffered for the next call. Returns park while keep-alive
    /// goes on, close when the connection is done. Bodies and responses are
    /// read and written as in handle(), with body_timeout / send_timeout.
    Resume handle_ready();
    /// When a parked connection gives up: header_timeout after the
    /// connection (first request) or after the first byte of a later head;
    /// keepalive_timeout after the last response when nothing is pending.
    std::chrono::steady_clock::time_point idle_deadline() const;
    /// The deadline passed: 408 for a partly received head, else nothing.
    void handle_idle_timeout();

private:
    friend ResumableHandler* sockhost::sdk::resumable(BaseRequestHandler& handler);

    void dispatch();
    void set_partial_requestline();
    /// RFC 9110 15.5.9: 408 for a head that did not arrive in time, then close.
    void answer_header_timeout();
    void handler_failed(std::string_view what);
    void finish_response();
    void drain_body();
    [[noreturn]] void abort_request(int code, std::string_view message);
    bool begin_body_read();
    void fill_body();
    std::string log_prefix() const;

    struct State;
    Limits limits_;
    State* state_ = nullptr;   // parser and response state (pimpl keeps the ABI stable)
};

}  // namespace sockhost::sdk::http
