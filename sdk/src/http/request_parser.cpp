// SPDX-License-Identifier: MIT
// The strict HTTP/1.x request-head parser and chunked decoder.
//
// Hand-written rather than Boost.Beast's http::request_parser, because:
//  - the limits need distinct answers (414 for the request line, 431 for the
//    field count and head size); Beast 1.74 has one header_limit and no
//    request-line limit, so every overflow would look the same;
//  - the smuggling rules (CL+TE, differing Content-Length, obs-fold, bare CR,
//    TE on HTTP/1.0, codings before chunked) are ours to state and test with
//    an RFC clause each; with Beast some are its policy, some ours on top;
//  - a few hundred lines of plain code keep the SDK's compile time and public
//    headers free of Beast (TOOLCHAIN.md 7: 175k preprocessed lines per TU)
//    and are small enough to fuzz to saturation.
#include "sockhost/sdk/http/request_parser.hpp"

#include "sockhost/sdk/http/ascii.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <vector>

namespace sockhost::sdk::http {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

constexpr char lower(char c) { return ascii_lower(c); }

ParseResult error(int code, std::string_view message) {
    ParseResult r;
    r.status = ParseStatus::error;
    r.error_code = code;
    r.error_message = message;
    return r;
}

/// The line [start, nl) without its optional CR.
std::string_view line_at(std::string_view data, std::size_t start, std::size_t nl) {
    std::string_view line = data.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

}  // namespace

// --- RequestParser ----------------------------------------------------------

ParseResult RequestParser::parse(std::string_view data, RequestHead& head) {
    // Scan complete lines from scan_ on, checking only the limits; the syntax
    // is checked once the whole head is in (it is bounded by max_header_size).
    constexpr std::size_t npos = std::string_view::npos;
    for (;;) {
        std::size_t nl = data.find('\n', scan_);
        if (nl == npos) {
            // RFC 9112 3: a request-target longer than we wish to parse is
            // 414; the line can only get longer.
            if (request_start_ == npos && data.size() - scan_ > limits_.max_request_line + 1)
                return error(414, "request line too long");
            // RFC 6585 5: 431 for header fields too large.
            if (data.size() > limits_.max_header_size) return error(431, "request header too large");
            return {};
        }
        std::string_view line = line_at(data, scan_, nl);
        if (request_start_ == npos && line.size() > limits_.max_request_line)
            return error(414, "request line too long");
        if (nl + 1 > limits_.max_header_size) return error(431, "request header too large");
        if (request_start_ == npos) {
            // RFC 9112 2.2: ignore empty lines received before the request line.
            if (!line.empty()) request_start_ = scan_;
        } else if (line.empty()) {
            std::size_t start = request_start_;
            reset();
            return parse_complete(data.substr(0, nl + 1), start, head);
        } else if (++fields_ > limits_.max_header_count) {
            return error(431, "too many header fields");
        }
        scan_ = nl + 1;
    }
}

ParseResult RequestParser::parse_complete(std::string_view data, std::size_t request_start,
                                          RequestHead& head) {
    head = RequestHead{};
    std::size_t nl = data.find('\n', request_start);
    std::string_view line = line_at(data, request_start, nl);
    head.request_line.assign(line);

    // RFC 9112 2.2: a bare CR is invalid; NUL never belongs in a head.
    for (char c : data.substr(request_start)) {
        if (c == '\0') return error(400, "NUL in request head");
    }

    // RFC 9112 3: request-line = method SP request-target SP HTTP-version
    std::size_t sp1 = line.find(' ');
    if (sp1 == std::string_view::npos) return error(400, "bad request syntax");
    std::size_t sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) return error(400, "bad request syntax");
    std::string_view method = line.substr(0, sp1);
    std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view version = line.substr(sp2 + 1);

    // RFC 9112 2.6: HTTP-version = "HTTP" "/" DIGIT "." DIGIT (case-sensitive)
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !is_digit(version[5]) ||
        version[6] != '.' || !is_digit(version[7]))
        return error(400, "bad request version");
    if (!is_token(method)) return error(400, "bad request method");
    if (target.empty()) return error(400, "bad request target");
    for (char c : target) {
        auto u = static_cast<unsigned char>(c);
        // RFC 3986 characters only: visible ASCII, no SP, no CTL, no obs-text.
        if (u <= 0x20 || u >= 0x7f) return error(400, "bad request target");
    }
    // RFC 9112 3.2: origin-form, absolute-form, authority-form (CONNECT),
    // asterisk-form (OPTIONS).
    if (method == "CONNECT") {
        if (target.front() == '/' || target.find('/') != std::string_view::npos)
            return error(400, "bad request target");
    } else if (target == "*") {
        if (method != "OPTIONS") return error(400, "bad request target");
    } else if (target.front() != '/') {
        std::size_t colon = target.find("://");
        if (colon == std::string_view::npos || colon == 0 || !is_alpha(target.front()))
            return error(400, "bad request target");
        for (char c : target.substr(0, colon))
            if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.')
                return error(400, "bad request target");
    }
    head.method.assign(method);
    head.target.assign(target);
    head.version.assign(version);
    head.version_major = version[5] - '0';
    head.version_minor = version[7] - '0';
    // RFC 9110 6.2: we speak 1.x only; 505 for 0.x and 2+.
    if (head.version_major != 1) return error(505, "HTTP version not supported");

    // Header fields.
    std::size_t pos = nl + 1;
    while (pos < data.size()) {
        nl = data.find('\n', pos);
        std::string_view field = line_at(data, pos, nl);
        pos = nl + 1;
        if (field.empty()) break;
        std::string_view name, value;
        if (const char* why = parse_field_line(field, name, value)) return error(400, why);
        head.headers.add(std::string(name), std::string(value));
    }

    // Framing and connection semantics.
    bool has_cl = false, has_te = false, close = false, keep_alive = false;
    std::size_t hosts = 0;
    std::uint64_t length = 0;
    const char* framing_error = nullptr;
    std::vector<std::string_view> codings;
    for (const auto& [name, value] : head.headers.fields()) {
        if (iequals(name, "content-length")) {
            // RFC 9112 6.3 (5): a list of identical values may be accepted;
            // anything else is unrecoverable framing: 400.
            bool any = false;
            for_each_list_element(value, [&](std::string_view item) {
                any = true;
                std::uint64_t v = 0;
                for (char c : item) {
                    if (!is_digit(c) ||
                        v > (std::numeric_limits<std::uint64_t>::max() - 9) / 10) {
                        framing_error = "bad Content-Length";
                        return;
                    }
                    v = v * 10 + static_cast<std::uint64_t>(c - '0');
                }
                if (has_cl && v != length) framing_error = "conflicting Content-Length";
                has_cl = true;
                length = v;
            });
            if (!any) framing_error = "bad Content-Length";
        } else if (iequals(name, "transfer-encoding")) {
            has_te = true;
            for_each_list_element(value, [&](std::string_view item) { codings.push_back(item); });
        } else if (iequals(name, "host")) {
            ++hosts;
        } else if (iequals(name, "connection")) {
            for_each_list_element(value, [&](std::string_view item) {
                if (iequals(item, "close")) close = true;
                else if (iequals(item, "keep-alive")) keep_alive = true;
            });
        } else if (iequals(name, "expect")) {
            // RFC 9110 10.1.1: ignore 100-continue on HTTP/1.0.
            if (iequals(value, "100-continue") && head.version_minor >= 1) head.expect_continue = true;
        }
    }
    if (framing_error) return error(400, framing_error);
    bool http11 = head.version_minor >= 1;
    // RFC 9112 3.2: a server MUST respond 400 to an HTTP/1.1 request without
    // a Host field, and to any request with more than one.
    if ((http11 && hosts == 0) || hosts > 1) return error(400, "missing or repeated Host header");
    if (has_te) {
        // RFC 9112 6.3 (3): TE plus Content-Length may be smuggling; we reject it.
        if (has_cl) return error(400, "both Content-Length and Transfer-Encoding");
        // RFC 9112 6.1: TE on HTTP/1.0 means faulty framing.
        if (!http11) return error(400, "Transfer-Encoding on HTTP/1.0");
        // RFC 9112 6.3 (4): chunked must be the final coding, else 400.
        if (codings.empty() || !iequals(codings.back(), "chunked"))
            return error(400, "chunked is not the final transfer coding");
        for (std::size_t i = 0; i + 1 < codings.size(); ++i) {
            // RFC 9112 7: chunked MUST NOT be applied more than once.
            if (iequals(codings[i], "chunked")) return error(400, "chunked applied twice");
        }
        // RFC 9112 6.1: a transfer coding we do not implement: 501.
        if (codings.size() > 1) return error(501, "unsupported transfer coding");
        head.framing = BodyFraming::chunked;
    } else if (has_cl) {
        head.framing = BodyFraming::content_length;
        head.content_length = length;
    }
    // RFC 9112 9.3: persistence defaults.
    head.keep_alive = http11 ? !close : (keep_alive && !close);

    ParseResult done;
    done.status = ParseStatus::done;
    done.consumed = data.size();
    return done;
}

}  // namespace sockhost::sdk::http
