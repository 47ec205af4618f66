// SPDX-License-Identifier: MIT
// Chunked transfer coding (RFC 9112 7.1): the request body decoder and the
// response framing.
#include "sockhost/sdk/http/chunked.hpp"

#include <cstdio>
#include <limits>

#include "sockhost/sdk/http/ascii.hpp"
#include "sockhost/sdk/http/headers.hpp"

namespace sockhost::sdk::http {

namespace {
constexpr std::size_t kMaxChunkLine = 4096;   // chunk-size line with extensions
}  // namespace

// --- ChunkedDecoder ---------------------------------------------------------

void ChunkedDecoder::reset() {
    state_ = State::size_line;
    remaining_ = 0;
    trailer_bytes_ = 0;
    trailer_count_ = 0;
}

ChunkedDecoder::Step ChunkedDecoder::fail(std::string_view message, int code) {
    state_ = State::failed;
    Step s;
    s.status = ParseStatus::error;
    s.error_code = code;
    s.error_message = message;
    return s;
}

ChunkedDecoder::Step ChunkedDecoder::step(std::string_view input, std::size_t max) {
    Step s;
    std::size_t pos = 0;
    for (;;) {
        switch (state_) {
            case State::failed:
                return fail("chunked body already failed");
            case State::done:
                s.status = ParseStatus::done;
                s.consumed = pos;
                return s;
            case State::size_line: {
                // RFC 9112 7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
                std::size_t nl = input.find('\n', pos);
                if (nl == std::string_view::npos) {
                    if (input.size() - pos > kMaxChunkLine) return fail("chunk size line too long");
                    s.consumed = pos;
                    return s;
                }
                if (nl - pos > kMaxChunkLine) return fail("chunk size line too long");
                std::string_view line = input.substr(pos, nl - pos);
                if (line.empty() || line.back() != '\r') return fail("chunk size line without CRLF");
                line.remove_suffix(1);
                std::uint64_t size = 0;
                std::size_t i = 0;
                for (; i < line.size() && hex_value(line[i]) >= 0; ++i) {
                    if (size > (std::numeric_limits<std::uint64_t>::max() >> 4))
                        return fail("chunk size overflow");
                    size = (size << 4) | static_cast<std::uint64_t>(hex_value(line[i]));
                }
                if (i == 0) return fail("bad chunk size");
                // RFC 9112 7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name
                // [ BWS "=" BWS chunk-ext-val ] ); ignored, but no CTLs.
                std::string_view ext = line.substr(i);
                while (!ext.empty() && is_ows(ext.front())) ext.remove_prefix(1);
                if (!ext.empty() && ext.front() != ';') return fail("bad chunk size");
                for (char c : ext)
                    if (!is_field_value_char(c)) return fail("control character in chunk extension");
                pos = nl + 1;
                if (size == 0) {
                    state_ = State::trailers;
                } else {
                    remaining_ = size;
                    state_ = State::data;
                }
                break;
            }
            case State::data: {
                std::size_t avail = input.size() - pos;
                std::size_t n = static_cast<std::size_t>(
                    std::min<std::uint64_t>(remaining_, std::min(avail, max)));
                if (n == 0) {
                    s.consumed = pos;
                    return s;
                }
                s.data = input.substr(pos, n);
                pos += n;
                remaining_ -= n;
                if (remaining_ == 0) state_ = State::data_crlf;
                s.consumed = pos;
                return s;
            }
            case State::data_crlf: {
                std::size_t avail = input.size() - pos;
                if (avail >= 1 && input[pos] != '\r') return fail("chunk data not followed by CRLF");
                if (avail >= 2 && input[pos + 1] != '\n') return fail("chunk data not followed by CRLF");
                if (avail < 2) {
                    s.consumed = pos;
                    return s;
                }
                pos += 2;
                state_ = State::size_line;
                break;
            }
            case State::trailers: {
                // RFC 9112 7.1.2: trailer-section = *( field-line CRLF ), then CRLF.
                std::size_t nl = input.find('\n', pos);
                if (nl == std::string_view::npos) {
                    if (trailer_bytes_ + (input.size() - pos) > limits_.max_header_size)
                        return fail("trailer section too large", 431);
                    s.consumed = pos;
                    return s;
                }
                std::string_view line = input.substr(pos, nl - pos);
                if (line.empty() || line.back() != '\r') return fail("trailer line without CRLF");
                line.remove_suffix(1);
                trailer_bytes_ += nl + 1 - pos;
                pos = nl + 1;
                if (line.empty()) {
                    state_ = State::done;
                    break;
                }
                if (trailer_bytes_ > limits_.max_header_size)
                    return fail("trailer section too large", 431);
                if (++trailer_count_ > limits_.max_header_count)
                    return fail("too many trailer fields", 431);
                std::string_view name, value;
                if (line.find('\0') != std::string_view::npos) return fail("NUL in trailer");
                if (const char* why = parse_field_line(line, name, value)) return fail(why);
                break;
            }
        }
    }
}

std::string chunk_header(std::size_t size) {
    char buf[24];
    const int n = std::snprintf(buf, sizeof buf, "%zx\r\n", size);
    return std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
}

}  // namespace sockhost::sdk::http
