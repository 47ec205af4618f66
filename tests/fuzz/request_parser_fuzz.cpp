// SPDX-License-Identifier: MIT
// libFuzzer driver for the request-head parser and the chunked decoder.
// Beyond "no crash": parsing the input whole and parsing it presented in
// growing slices must agree, and consumed counts must stay in bounds.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sockhost/sdk/http/request_parser.hpp"

namespace http = sockhost::sdk::http;

namespace {

[[noreturn]] void fail() { __builtin_trap(); }

void check(bool ok) {
    if (!ok) fail();
}

http::ParseResult parse_sliced(std::string_view in, std::size_t slice, const http::Limits& limits,
                               http::RequestHead& head) {
    http::RequestParser parser(limits);
    http::ParseResult r;
    for (std::size_t n = std::min(slice, in.size());; n = std::min(n + slice, in.size())) {
        r = parser.parse(in.substr(0, n), head);
        if (r.status != http::ParseStatus::need_more || n == in.size()) return r;
    }
}

struct Decoded {
    http::ParseStatus status = http::ParseStatus::need_more;
    int error = 0;
    std::string body;
    std::size_t consumed = 0;
};

/// Decodes `in` presenting `slice` more bytes whenever the decoder needs more,
/// handing out at most `max` bytes per step, as BaseHTTPRequestHandler does.
Decoded decode(std::string_view in, std::size_t slice, std::size_t max, const http::Limits& limits) {
    http::ChunkedDecoder d(limits);
    Decoded out;
    std::size_t avail = std::min(slice, in.size());
    for (;;) {
        std::string_view view = in.substr(out.consumed, avail - out.consumed);
        http::ChunkedDecoder::Step s = d.step(view, max);
        check(s.consumed <= view.size());
        check(s.data.size() <= max);
        if (!s.data.empty())
            check(s.data.data() >= view.data() && s.data.data() + s.data.size() <= view.data() + s.consumed);
        if (s.status == http::ParseStatus::error) {
            check(s.error_code == 400 || s.error_code == 431);
            out.status = s.status;
            out.error = s.error_code;
            return out;
        }
        out.body.append(s.data);
        out.consumed += s.consumed;
        if (s.status == http::ParseStatus::done) {
            out.status = s.status;
            return out;
        }
        if (s.consumed == 0 && s.data.empty()) {
            if (avail == in.size()) return out;
            avail = std::min(avail + slice, in.size());
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    // First byte: limits (small ones reach the limit paths) and slice size.
    std::uint8_t cfg = data[0];
    std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
    http::Limits limits;
    if (cfg & 1) {
        limits.max_request_line = 64;
        limits.max_header_count = 4;
        limits.max_header_size = 256;
    }
    std::size_t slice = static_cast<std::size_t>(cfg >> 1) % 17 + 1;
    std::size_t max = (cfg & 0x80) ? 3 : static_cast<std::size_t>(-1);

    http::RequestHead whole_head;
    http::RequestParser parser(limits);
    http::ParseResult whole = parser.parse(in, whole_head);
    http::RequestHead sliced_head;
    http::ParseResult sliced = parse_sliced(in, slice, limits, sliced_head);

    check(whole.status == sliced.status);
    if (whole.status == http::ParseStatus::error) {
        check(whole.error_code == sliced.error_code);
        check(whole.error_code == 400 || whole.error_code == 414 || whole.error_code == 431 ||
              whole.error_code == 501 || whole.error_code == 505);
        return 0;
    }
    if (whole.status != http::ParseStatus::done) return 0;
    check(whole.consumed == sliced.consumed);
    check(whole.consumed <= in.size() && whole.consumed <= limits.max_header_size);
    check(whole_head.request_line.size() <= limits.max_request_line);
    check(whole_head.headers.size() <= limits.max_header_count);
    check(whole_head.headers.fields() == sliced_head.headers.fields());
    check(whole_head.method == sliced_head.method && whole_head.target == sliced_head.target);
    check(http::is_token(whole_head.method));
    for (const auto& [name, value] : whole_head.headers.fields()) {
        check(http::is_token(name));
        for (char c : value) check(c == '\t' || static_cast<unsigned char>(c) >= 0x20);
    }

    if (whole_head.framing == http::BodyFraming::chunked) {
        std::string_view body = in.substr(whole.consumed);
        Decoded a = decode(body, body.size() ? body.size() : 1, static_cast<std::size_t>(-1), limits);
        Decoded b = decode(body, slice, max, limits);
        check(a.status == b.status && a.error == b.error);
        if (a.status == http::ParseStatus::done) {
            check(a.body == b.body && a.consumed == b.consumed);
            check(a.consumed <= body.size());
        }
    }
    return 0;
}
