// SPDX-License-Identifier: MIT
// A pure, strict HTTP/1.x request-head parser and chunked-body decoder: no
// I/O, no allocation beyond the parsed result; fuzzed (tests/fuzz/).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sockhost/sdk/abi.hpp"
#include "sockhost/sdk/http/base_http_request_handler.hpp"

namespace sockhost::sdk::http {

/// What parsing stopped on.
enum class ParseStatus {
    need_more,   // not enough bytes yet: read more and call again with all of them
    done,        // complete; `consumed` bytes belong to this element
    error,       // malformed or over a limit: answer `error_code`, then close
};

/// How the request's body is delimited (RFC 9112 6.3).
enum class BodyFraming { none, content_length, chunked };

/// One parsed request head. Strings are copies: the head outlives the buffer.
struct SOCKHOST_SDK_API RequestHead {
    std::string method;             // "GET"
    std::string target;             // "/a%20b?q=1", as sent
    std::string version;            // "HTTP/1.1"
    int version_major = 1;
    int version_minor = 1;
    std::string request_line;       // without the line terminator
    Headers headers;
    BodyFraming framing = BodyFraming::none;
    std::uint64_t content_length = 0;   // when framing == content_length
    /// RFC 9112 9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with "keep-alive".
    bool keep_alive = true;
    /// RFC 9110 10.1.1: "Expect: 100-continue" on an HTTP/1.1 request.
    bool expect_continue = false;
};

/// The outcome of one parse call.
struct ParseResult {
    ParseStatus status = ParseStatus::need_more;
    std::size_t consumed = 0;       // bytes to drop from the input (done only)
    int error_code = 0;             // HTTP status for ParseStatus::error (400, 414, 431, 501, 505)
    std::string_view error_message; // short reason for the log and the error page
};

/// Parses one request head from the start of `data`: the bytes received so far
/// on the connection, not yet consumed. Stateless between calls except for a
/// scan position, so a caller re-presents the same (grown) buffer after each
/// read: `parse()` with a longer `data` resumes the search for the head's end.
///
/// Strictness (each an error with the status in parentheses):
/// request line longer than max_request_line (414); more than max_header_count
/// fields or a head over max_header_size bytes (431); method not a token,
/// target not visible ASCII or of the wrong form, version not HTTP/D.D,
/// anything but one SP between the three parts (400); HTTP/0.x or HTTP/2+
/// (505); obs-fold, whitespace before a colon, empty field name, NUL or a
/// control character other than HTAB in a field value, a bare CR (400);
/// Content-Length with Transfer-Encoding, differing or malformed
/// Content-Length (400); Transfer-Encoding whose final coding is not chunked,
/// or on HTTP/1.0 (400); codings before chunked ("gzip, chunked") (501);
/// HTTP/1.1 without exactly one Host (400).
///
/// Line endings: CRLF, and also a bare LF (RFC 9112 2.2 allows a recipient to
/// accept it; nginx and CPython do), so hand-typed requests work. A CR not
/// followed by LF is an error. Empty lines before the request line are skipped
/// (RFC 9112 2.2) and count towards max_header_size.
class SOCKHOST_SDK_API RequestParser {
public:
    explicit RequestParser(const Limits& limits) : limits_(limits) {}

    /// Parses the head at the start of `data` into `head` once it is complete.
    /// `data` must start with the same bytes as in the previous call.
    ParseResult parse(std::string_view data, RequestHead& head);
    /// Forgets the scan position, for the next request.
    void reset() {
        scan_ = 0;
        request_start_ = std::string_view::npos;
        fields_ = 0;
    }

private:
    ParseResult parse_complete(std::string_view data, std::size_t head_end, RequestHead& head);

    Limits limits_;
    std::size_t scan_ = 0;                                  // start of the first unterminated line
    std::size_t request_start_ = std::string_view::npos;    // where the request line starts
    std::size_t fields_ = 0;                                // field lines seen
};

/// Decodes a chunked body (RFC 9112 7.1) incrementally, with no copies: each
/// step() returns a view of chunk data inside the input. Chunk extensions are
/// ignored; trailer fields are parsed (same rules as header fields) and
/// discarded. Chunk framing lines must end in CRLF: a bare LF there is an
/// error (400), because disagreement on chunk framing is how requests are
/// smuggled past proxies.
class SOCKHOST_SDK_API ChunkedDecoder {
public:
    explicit ChunkedDecoder(const Limits& limits) : limits_(limits) {}

    struct Step {
        ParseStatus status = ParseStatus::need_more;  // done = the last chunk and trailers are read
        std::size_t consumed = 0;        // bytes of input used (framing and data)
        std::string_view data;           // body bytes, a view into the input
        int error_code = 0;              // 400 (or 431 for oversized trailers)
        std::string_view error_message;
    };

    /// Consumes framing from `input` and returns at most `max` body bytes.
    /// need_more with consumed > 0 or data non-empty is progress: drop
    /// `consumed` bytes and call again. need_more with nothing consumed means
    /// the next framing line is incomplete: append more input and call again.
    Step step(std::string_view input, std::size_t max = static_cast<std::size_t>(-1));
    bool done() const { return state_ == State::done; }
    void reset();

private:
    enum class State { size_line, data, data_crlf, trailers, done, failed };
    Step fail(std::string_view message, int code = 400);

    Limits limits_;
    State state_ = State::size_line;
    std::uint64_t remaining_ = 0;   // data bytes left in the current chunk
    std::size_t trailer_bytes_ = 0;
    std::size_t trailer_count_ = 0;
};

/// RFC 9110 5.6.2: tchar.
SOCKHOST_SDK_API bool is_token_char(char c) noexcept;
/// RFC 9110 5.6.2: 1*tchar.
SOCKHOST_SDK_API bool is_token(std::string_view s) noexcept;

}  // namespace sockhost::sdk::http
