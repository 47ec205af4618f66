// SPDX-License-Identifier: MIT
// Chunked transfer coding (RFC 9112 7.1): a decoder for request bodies and
// the framing for response bodies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sockhost/sdk/abi.hpp"
#include "sockhost/sdk/http/limits.hpp"
#include "sockhost/sdk/http/parse_status.hpp"

namespace sockhost::sdk::http {

/// Decodes a chunked body incrementally, with no copies: each step() returns
/// a view of chunk data inside the input. Chunk extensions are ignored;
/// trailer fields are parsed (same rules as header fields) and discarded.
/// Chunk framing lines must end in CRLF: a bare LF there is an error (400),
/// because disagreement on chunk framing is how requests are smuggled past
/// proxies.
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

/// The framing line before `size` bytes of chunk data: "1a2b\r\n".
SOCKHOST_SDK_API std::string chunk_header(std::size_t size);
/// What follows each chunk's data.
inline constexpr std::string_view kChunkEnd = "\r\n";
/// The last chunk, with no trailer fields.
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

}  // namespace sockhost::sdk::http
