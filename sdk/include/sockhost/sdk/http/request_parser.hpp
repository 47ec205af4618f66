// SPDX-License-Identifier: MIT
// A pure, strict HTTP/1.x request-head parser: no I/O, no allocation beyond
// the parsed result; fuzzed with the chunked decoder (tests/fuzz/).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sockhost/sdk/abi.hpp"
#include "sockhost/sdk/http/chunked.hpp"
#include "sockhost/sdk/http/headers.hpp"
#include "sockhost/sdk/http/limits.hpp"
#include "sockhost/sdk/http/parse_status.hpp"

namespace sockhost::sdk::http {

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

}  // namespace sockhost::sdk::http
