// SPDX-License-Identifier: MIT
// Range requests (RFC 9110 14): the Range field, Content-Range and the
// multipart/byteranges layout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sockhost/sdk/abi.hpp"

namespace sockhost::sdk::http {

/// An inclusive byte range [first, last] of a representation.
struct ByteRange {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    std::uint64_t length() const { return last - first + 1; }
    bool operator==(const ByteRange&) const = default;
};

/// What a Range field asks of a representation of `size` bytes.
struct RangeResult {
    enum class Kind {
        ignore,          // no/malformed/unsupported Range: serve 200 with everything
        satisfiable,     // 206 with `ranges` (one, or several for multipart)
        unsatisfiable,   // 416 with Content-Range: bytes */size
    };
    Kind kind = Kind::ignore;
    std::vector<ByteRange> ranges;
};

/// At most this many ranges per request; more are ignored (200), as nginx
/// does (max_ranges) against RFC 9110 14.2's denial-of-service concern.
inline constexpr std::size_t kMaxRanges = 16;

/// Parses a Range field value (RFC 9110 14.1.1, 14.2): "bytes=" then a
/// comma list of "a-b", "a-", "-n" (optional whitespace around members).
///  - another unit, or any malformed member (a > b, no digits, junk) -> ignore;
///  - ranges starting at or beyond `size`, and "-0", are unsatisfiable;
///    clamped otherwise ("a-" and a too-large "b" end at size-1);
///  - no satisfiable member -> unsatisfiable (416);
///  - overlapping or adjacent ranges are coalesced (RFC 9110 14.2 allows it),
///    after which the ranges are in ascending order;
///  - more than kMaxRanges members -> ignore.
SOCKHOST_SDK_API RangeResult parse_range(std::string_view field, std::uint64_t size);

/// Content-Range (RFC 9110 14.4): "bytes a-b/size".
SOCKHOST_SDK_API std::string content_range(const ByteRange& range, std::uint64_t size);

/// A multipart/byteranges body (RFC 9110 14.6) laid out before sending:
/// for each range its part head, then the representation's bytes, then `tail`.
struct MultipartLayout {
    struct Part {
        std::string head;   // "\r\n--B\r\nContent-Type: t\r\nContent-Range: ...\r\n\r\n"
        ByteRange range;
    };
    std::string content_type;     // "multipart/byteranges; boundary=B"
    std::vector<Part> parts;
    std::string tail;             // "\r\n--B--\r\n"
    std::uint64_t content_length = 0;
};
/// The layout of `ranges` of a representation of `size` bytes and type
/// `content_type`, with `boundary` (make_boundary()).
SOCKHOST_SDK_API MultipartLayout multipart_layout(const std::vector<ByteRange>& ranges,
                                                  std::string_view content_type, std::uint64_t size,
                                                  std::string_view boundary);
/// A fresh boundary: 24 random hex digits (never in a file by more than chance).
SOCKHOST_SDK_API std::string make_boundary();

}  // namespace sockhost::sdk::http
