// SPDX-License-Identifier: MIT
// Range requests (RFC 9110 14): the Range field, Content-Range, multipart/byteranges.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sockhost/sdk/http/range.hpp"

namespace http = sockhost::sdk::http;

namespace {

using Kind = http::RangeResult::Kind;

std::vector<http::ByteRange> R(std::initializer_list<http::ByteRange> l) { return l; }

TEST(ParseRange, SingleRangesOfEveryForm) {
    auto a = http::parse_range("bytes=0-4", 10);
    EXPECT_EQ(a.kind, Kind::satisfiable);
    EXPECT_EQ(a.ranges, R({{0, 4}}));
    EXPECT_EQ(http::parse_range("bytes=5-", 10).ranges, R({{5, 9}}));
    EXPECT_EQ(http::parse_range("bytes=-3", 10).ranges, R({{7, 9}}));
    EXPECT_EQ(http::parse_range("bytes=-30", 10).ranges, R({{0, 9}}));
    EXPECT_EQ(http::parse_range("bytes=8-100", 10).ranges, R({{8, 9}}));
    EXPECT_EQ(http::parse_range("bytes=9-9", 10).ranges, R({{9, 9}}));
    EXPECT_EQ(http::parse_range("Bytes = 1-2", 10).ranges, R({{1, 2}}));
    EXPECT_EQ(http::parse_range("bytes=0-18446744073709551615", 10).ranges, R({{0, 9}}));
}

TEST(ParseRange, UnsatisfiableRangesGive416) {
    EXPECT_EQ(http::parse_range("bytes=10-", 10).kind, Kind::unsatisfiable);
    EXPECT_EQ(http::parse_range("bytes=10-20", 10).kind, Kind::unsatisfiable);
    EXPECT_EQ(http::parse_range("bytes=-0", 10).kind, Kind::unsatisfiable);
    EXPECT_EQ(http::parse_range("bytes=0-0", 0).kind, Kind::unsatisfiable);
    EXPECT_EQ(http::parse_range("bytes=-5", 0).kind, Kind::unsatisfiable);
    EXPECT_EQ(http::parse_range("bytes=20-30, 40-", 10).kind, Kind::unsatisfiable);
}

TEST(ParseRange, UnsatisfiableMembersAreDroppedFromASatisfiableSet) {
    auto r = http::parse_range("bytes=20-30, 0-1", 10);
    EXPECT_EQ(r.kind, Kind::satisfiable);
    EXPECT_EQ(r.ranges, R({{0, 1}}));
}

TEST(ParseRange, MalformedOrForeignRangesAreIgnored) {
    for (const char* f : {"", "bytes", "bytes=", "bytes=a-b", "bytes=5-4", "bytes=1", "bytes=--1",
                          "bytes=1-2-3", "items=0-1", "bytes=0-1,x", "bytes=+1-2", "bytes=99999999999999999999-"})
        EXPECT_EQ(http::parse_range(f, 10).kind, Kind::ignore) << f;
}

TEST(ParseRange, MultipleRangesAreSortedAndCoalesced) {
    auto r = http::parse_range("bytes=6-7, 0-1, 3-4", 10);
    EXPECT_EQ(r.kind, Kind::satisfiable);
    EXPECT_EQ(r.ranges, R({{0, 1}, {3, 4}, {6, 7}}));
    EXPECT_EQ(http::parse_range("bytes=0-4,2-6", 10).ranges, R({{0, 6}}));
    EXPECT_EQ(http::parse_range("bytes=0-4,5-6", 10).ranges, R({{0, 6}}));
    EXPECT_EQ(http::parse_range("bytes=0-1,0-1,0-1", 10).ranges, R({{0, 1}}));
    EXPECT_EQ(http::parse_range("bytes=-2,0-0", 10).ranges, R({{0, 0}, {8, 9}}));
}

TEST(ParseRange, TooManyRangesAreIgnored) {
    std::string many = "bytes=0-0";
    for (std::size_t i = 1; i <= http::kMaxRanges; ++i) many += "," + std::to_string(2 * i) + "-" + std::to_string(2 * i);
    EXPECT_EQ(http::parse_range(many, 1000).kind, Kind::ignore);
}

TEST(Multipart, LayoutHasPartHeadsTailAndExactLength) {
    auto l = http::multipart_layout(R({{0, 1}, {5, 9}}), "text/plain", 10, "BND");
    EXPECT_EQ(l.content_type, "multipart/byteranges; boundary=BND");
    ASSERT_EQ(l.parts.size(), 2u);
    EXPECT_EQ(l.parts[0].head, "\r\n--BND\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/10\r\n\r\n");
    EXPECT_EQ(l.parts[1].head, "\r\n--BND\r\nContent-Type: text/plain\r\nContent-Range: bytes 5-9/10\r\n\r\n");
    EXPECT_EQ(l.tail, "\r\n--BND--\r\n");
    EXPECT_EQ(l.content_length, l.parts[0].head.size() + 2 + l.parts[1].head.size() + 5 + l.tail.size());
}

TEST(Multipart, BoundariesAreFreshHex) {
    std::string a = http::make_boundary(), b = http::make_boundary();
    EXPECT_EQ(a.size(), 24u);
    EXPECT_NE(a, b);
    EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(ContentRange, FormatsBytesFirstLastSize) {
    EXPECT_EQ(http::content_range({2, 5}, 10), "bytes 2-5/10");
}

}  // namespace
