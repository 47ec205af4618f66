// SPDX-License-Identifier: MIT
// Range requests (RFC 9110 14).
#include "sockhost/sdk/http/range.hpp"

#include <algorithm>
#include <cstdio>
#include <random>

#include "sockhost/sdk/http/ascii.hpp"

namespace sockhost::sdk::http {

namespace {

/// Parses a non-empty run of decimal digits; false on overflow or junk.
bool parse_u64(std::string_view s, std::uint64_t& out) {
    if (s.empty()) return false;
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        std::uint64_t d = static_cast<std::uint64_t>(c - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    out = v;
    return true;
}

/// One member of a byte-range-set: false when malformed (the whole field
/// is then ignored); a satisfiable member is appended to `ranges`.
bool add_range(std::string_view member, std::uint64_t size, std::vector<ByteRange>& ranges) {
    std::size_t dash = member.find('-');
    if (dash == std::string_view::npos) return false;
    std::string_view a = member.substr(0, dash), b = member.substr(dash + 1);
    std::uint64_t first = 0, last = 0;
    if (a.empty()) {
        // suffix-range "-n": the last n bytes; "-0" and empty representations
        // are unsatisfiable (RFC 9110 14.1.2).
        if (!parse_u64(b, last)) return false;
        if (last > 0 && size > 0) ranges.push_back({last >= size ? 0 : size - last, size - 1});
        return true;
    }
    if (!parse_u64(a, first)) return false;
    if (b.empty()) {
        last = UINT64_MAX;
    } else if (!parse_u64(b, last) || last < first) {
        return false;   // RFC 9110 14.1.1: last < first makes the field invalid
    }
    if (first < size) ranges.push_back({first, std::min(last, size - 1)});   // else unsatisfiable
    return true;
}

}  // namespace

RangeResult parse_range(std::string_view field, std::uint64_t size) {
    RangeResult result;   // kind = ignore
    field = trim_ows(field);
    // RFC 9110 14.1: range-unit is case-insensitive; we only know "bytes".
    std::size_t eq = field.find('=');
    if (eq == std::string_view::npos || !iequals(trim_ows(field.substr(0, eq)), "bytes")) return result;
    std::size_t members = 0;
    bool malformed = false;
    std::vector<ByteRange> ranges;
    for_each_list_element(field.substr(eq + 1), [&](std::string_view member) {
        if (++members > kMaxRanges || malformed) return;
        malformed = !add_range(member, size, ranges);
    });
    if (members == 0 || members > kMaxRanges || malformed) return result;
    if (ranges.empty()) {
        result.kind = RangeResult::Kind::unsatisfiable;
        return result;
    }
    // Coalesce overlapping or adjacent ranges (RFC 9110 14.2 permits it; it
    // defeats the many-overlapping-ranges attack).
    std::sort(ranges.begin(), ranges.end(),
              [](const ByteRange& x, const ByteRange& y) { return x.first < y.first; });
    std::vector<ByteRange> merged;
    for (const ByteRange& r : ranges) {
        if (!merged.empty() && r.first <= merged.back().last + 1)
            merged.back().last = std::max(merged.back().last, r.last);
        else
            merged.push_back(r);
    }
    result.kind = RangeResult::Kind::satisfiable;
    result.ranges = std::move(merged);
    return result;
}

std::string content_range(const ByteRange& range, std::uint64_t size) {
    return "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) + "/" +
           std::to_string(size);
}

MultipartLayout multipart_layout(const std::vector<ByteRange>& ranges, std::string_view content_type,
                                 std::uint64_t size, std::string_view boundary) {
    MultipartLayout layout;
    layout.content_type = "multipart/byteranges; boundary=" + std::string(boundary);
    for (const ByteRange& r : ranges) {
        MultipartLayout::Part part;
        part.head = "\r\n--" + std::string(boundary) + "\r\nContent-Type: " + std::string(content_type) +
                    "\r\nContent-Range: " + content_range(r, size) + "\r\n\r\n";
        part.range = r;
        layout.content_length += part.head.size() + r.length();
        layout.parts.push_back(std::move(part));
    }
    layout.tail = "\r\n--" + std::string(boundary) + "--\r\n";
    layout.content_length += layout.tail.size();
    return layout;
}

std::string make_boundary() {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    char buf[32];
    std::uint64_t a = rng(), b = rng();
    std::snprintf(buf, sizeof buf, "%016llx%08llx", static_cast<unsigned long long>(a),
                  static_cast<unsigned long long>(b & 0xffffffffull));
    return buf;
}

}  // namespace sockhost::sdk::http
