// SPDX-License-Identifier: MIT
// BaseHTTPRequestHandler: http.server.BaseHTTPRequestHandler over HTTP/1.1.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sockhost/sdk/abi.hpp"
#include "sockhost/sdk/errors.hpp"
#include "sockhost/sdk/http/headers.hpp"
#include "sockhost/sdk/http/limits.hpp"
#include "sockhost/sdk/http/status.hpp"
#include "sockhost/sdk/stream_request_handler.hpp"

namespace sockhost::sdk::http {

/// Thrown by read_body() / read_body_some() when the request cannot go on:
/// the body is too large (413 already answered), malformed (400), timed out
/// (408), or the client went away. The connection closes; a plugin need not
/// catch it: the layer does, without logging it as an error.
class SOCKHOST_SDK_API RequestAborted : public HandlerError {
public:
    explicit RequestAborted(const std::string& message);
    ~RequestAborted() override;
};

/// Serves HTTP/1.x on one connection: parses each request, dispatches it to
/// do_<METHOD>, and goes on while keep-alive allows. A plugin author
/// overrides only the do_ methods it supports; the rest answer 501.
///
/// Written once for every concurrency model (a ResumableStreamHandler):
/// handle_ready() answers every request whose head (and short body) has
/// arrived, reading only what is there; between requests the connection
/// waits in the host (event model) or on its thread (the others).
class SOCKHOST_SDK_API BaseHTTPRequestHandler : public ResumableStreamHandler {
public:
    BaseHTTPRequestHandler();
    ~BaseHTTPRequestHandler() override;

    /// Reads the limits from the server's options. Call the base first.
    void setup() override;

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
    // release_idle_memory() empties `headers`, `path` and `raw_requestline`
    // of a parked connection) ---
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
    /// As read_body_some(), but never waits: nullopt when no body bytes have
    /// arrived yet (wait for connection readability, then call again).
    std::optional<std::size_t> read_body_nowait(char* buffer, std::size_t n);

    // --- Building the response (http.server's names) -----------------------
    /// Status line + Server + Date headers; the request is logged (access
    /// log, with the body size) once the response is complete.
    void send_response(int code, std::string_view message = {});
    /// Status line only (no Server/Date, no log).
    void send_response_only(int code, std::string_view message = {});
    /// Adds a field (std::invalid_argument for a non-token name or CR/LF/NUL in
    /// the value). "Connection: close"/"keep-alive" set close_connection. A
    /// Location value starting with "//", "/\" or "\" (a scheme-relative URL,
    /// i.e. an open redirect) is rewritten to start with a single "/".
    /// "Transfer-Encoding: chunked" makes write_body() frame each write as
    /// a chunk and the end of the response add the last chunk.
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
    /// dropped for HEAD, 1xx, 204 and 304, which have no content. Each write
    /// is one chunk when the response is chunked.
    void write_body(std::string_view data);
    /// Sends a file region after end_headers() (zero-copy where possible);
    /// dropped like write_body's.
    void send_file(int fd, off_t offset, std::size_t count);
    /// The response cannot be completed (its source failed after the head
    /// was sent): no last chunk is written, and the connection closes, so
    /// the client sees a truncated body as truncated.
    void abandon_response();

    // --- Logging (the host escapes what a client sent) ---------------------
    /// The access log record for this request (status, body size).
    void log_request(int code, std::optional<std::size_t> size = std::nullopt);
    /// "client - - [date] message", at info level.
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

    // --- ResumableStreamHandler ---------------------------------------------
    /// Answers every request whose head has arrived (pipelined ones too),
    /// reading only what the connection already holds; a head still
    /// incomplete stays buffered for the next turn. A body of up to 64 KiB
    /// is read here too before the handler runs; larger ones (and those
    /// behind "Expect: 100-continue") by the handler's reads. Returns park
    /// while keep-alive goes on, close when the connection is done.
    Resume handle_ready() override;
    /// header_timeout after the connection (first request) or after the
    /// first byte of a later head; body_timeout after the last byte of a
    /// body being buffered; keepalive_timeout after the last response.
    Clock::time_point idle_deadline() const override;
    /// The deadline passed: 408 for a partly received request, else nothing.
    void handle_idle_timeout() override;
    /// Drops the last request's fields and the response buffers.
    void release_idle_memory() override;
    /// After a response, with nothing of the next request received.
    bool between_requests() const override;

protected:
    /// Calls do_<command> (do_other for a method without its own). Override
    /// it to route every method yourself (cgi runs scripts for any method).
    virtual void dispatch();

private:
    struct State;
    enum class Next { answered, wait, close };

    Next read_request();
    void serve_request();
    void begin_request();
    void set_partial_requestline();
    /// An error the layer answers itself (a refused head, RFC 9110 15.5.9's
    /// 408 for a request that did not arrive in time); the connection closes.
    void answer_and_close(int code, std::string_view message);
    void handler_failed(std::string_view what);
    void finish_response();
    void drain_body();
    [[noreturn]] void abort_request(int code, std::string_view message);
    bool begin_body_read();
    void fill_body();
    std::optional<std::size_t> take_body(char* buffer, std::size_t n, bool wait);
    void write_raw_body(std::string_view data);
    std::string log_prefix() const;

    Limits limits_;
    std::unique_ptr<State> state_;   // parser and response state
};

}  // namespace sockhost::sdk::http
