// SPDX-License-Identifier: MIT
// The strict request-head parser and chunked decoder, fed from memory.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sockhost/sdk/http/request_parser.hpp"

namespace sockhost::sdk::http {
namespace {

struct Parsed {
    ParseResult result;
    RequestHead head;
};

Parsed parse(std::string_view data, const Limits& limits = {}) {
    RequestParser parser(limits);
    Parsed p;
    p.result = parser.parse(data, p.head);
    return p;
}

/// Parses `data` presenting one more byte per call, as a trickling client would.
Parsed parse_bytewise(std::string_view data, const Limits& limits = {}) {
    RequestParser parser(limits);
    Parsed p;
    for (std::size_t n = 1; n <= data.size(); ++n) {
        p.result = parser.parse(data.substr(0, n), p.head);
        if (p.result.status != ParseStatus::need_more) return p;
    }
    return p;
}

int status_of(std::string_view data, const Limits& limits = {}) {
    Parsed p = parse(data, limits);
    if (p.result.status == ParseStatus::done) return 0;
    if (p.result.status == ParseStatus::need_more) return -1;
    return p.result.error_code;
}

/// Decodes a whole chunked body; "" plus error code on failure.
struct Decoded {
    std::string body;
    ParseStatus status = ParseStatus::need_more;
    int error = 0;
    std::size_t consumed = 0;
};

Decoded decode(std::string_view input, std::size_t split = 0, const Limits& limits = {}) {
    ChunkedDecoder d(limits);
    Decoded out;
    std::string buffer;   // unconsumed bytes, as rfile would hold them
    std::size_t fed = 0;
    if (split == 0) split = input.size();
    for (;;) {
        ChunkedDecoder::Step s = d.step(buffer);
        if (s.status == ParseStatus::error) {
            out.status = s.status;
            out.error = s.error_code;
            return out;
        }
        out.body.append(s.data);
        buffer.erase(0, s.consumed);
        out.consumed += s.consumed;
        if (s.status == ParseStatus::done) {
            out.status = s.status;
            return out;
        }
        if (s.consumed == 0 && s.data.empty()) {
            if (fed == input.size()) return out;   // need_more at the end of input
            std::size_t n = std::min(split, input.size() - fed);
            buffer.append(input.substr(fed, n));
            fed += n;
        }
    }
}

// --- Request line and fields ----------------------------------------------

TEST(HttpRequestParser, ParsesASimpleGet) {
    Parsed p = parse("GET /a%20b?q=1 HTTP/1.1\r\nHost: example\r\nX-Empty:\r\n\r\n");
    ASSERT_EQ(p.result.status, ParseStatus::done);
    EXPECT_EQ(p.head.method, "GET");
    EXPECT_EQ(p.head.target, "/a%20b?q=1");
    EXPECT_EQ(p.head.version, "HTTP/1.1");
    EXPECT_EQ(p.head.request_line, "GET /a%20b?q=1 HTTP/1.1");
    EXPECT_EQ(p.head.headers.get("host"), "example");
    EXPECT_EQ(p.head.headers.get("x-empty"), "");
    EXPECT_TRUE(p.head.keep_alive);
    EXPECT_EQ(p.head.framing, BodyFraming::none);
    EXPECT_EQ(p.result.consumed, 52u);
}

TEST(HttpRequestParser, StopsBeforePipelinedBytes) {
    std::string first = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n";
    Parsed p = parse(first + "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT_EQ(p.result.status, ParseStatus::done);
    EXPECT_EQ(p.result.consumed, first.size());
    EXPECT_EQ(p.head.target, "/1");
}

TEST(HttpRequestParser, ParsesAFieldValueWithOwsTrimmedAndObsText) {
    Parsed p = parse("GET / HTTP/1.1\r\nHost: h\r\nX-A: \t a b \t\r\nX-B: caf\xc3\xa9\r\n\r\n");
    ASSERT_EQ(p.result.status, ParseStatus::done);
    EXPECT_EQ(p.head.headers.get("X-A"), "a b");
    EXPECT_EQ(p.head.headers.get("X-B"), "caf\xc3\xa9");
}

TEST(HttpRequestParser, AcceptsBareLfLineEndings) {
    Parsed p = parse("GET / HTTP/1.1\nHost: h\n\n");
    ASSERT_EQ(p.result.status, ParseStatus::done);
    EXPECT_EQ(p.head.headers.get("host"), "h");
}

TEST(HttpRequestParser, SkipsEmptyLinesBeforeTheRequestLine) {
    Parsed p = parse("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT_EQ(p.result.status, ParseStatus::done);
    EXPECT_EQ(p.head.request_line, "GET / HTTP/1.1");
}

TEST(HttpRequestParser, WaitsForTheEndOfTheHead) {
    EXPECT_EQ(status_of(""), -1);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\n"), -1);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\n\r"), -1);
}

TEST(HttpRequestParser, GivesTheSameResultWhenFedOneByteAtATime) {
    std::string req =
        "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nX: y\r\n\r\nbody";
    Parsed whole = parse(req);
    Parsed trickled = parse_bytewise(req);
    ASSERT_EQ(trickled.result.status, ParseStatus::done);
    EXPECT_EQ(trickled.result.consumed, whole.result.consumed);
    EXPECT_EQ(trickled.head.headers.fields(), whole.head.headers.fields());
    EXPECT_EQ(trickled.head.framing, BodyFraming::chunked);
}

TEST(HttpRequestParser, ParsesPipelinedRequestsInSequence) {
    std::string data =
        "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
        "POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
        "GET /3 HTTP/1.0\r\n\r\n";
    RequestParser parser{Limits{}};
    std::vector<std::string> targets;
    std::string_view rest = data;
    while (!rest.empty()) {
        RequestHead head;
        ParseResult r = parser.parse(rest, head);
        ASSERT_EQ(r.status, ParseStatus::done);
        targets.push_back(head.target);
        rest.remove_prefix(r.consumed);
        if (head.framing == BodyFraming::content_length) rest.remove_prefix(head.content_length);
    }
    EXPECT_EQ(targets, (std::vector<std::string>{"/1", "/2", "/3"}));
}

TEST(HttpRequestParser, RejectsBadRequestLines) {
    EXPECT_EQ(status_of("GET /\r\n\r\n"), 400);                               // no version
    EXPECT_EQ(status_of("GET  / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);           // two spaces
    EXPECT_EQ(status_of("GET / HTTP/1.1 \r\nHost: h\r\n\r\n"), 400);           // trailing space
    EXPECT_EQ(status_of("G(T / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);            // not a token
    EXPECT_EQ(status_of("GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n"), 400);       // CTL in target
    EXPECT_EQ(status_of("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n"), 400); // non-ASCII target
    EXPECT_EQ(status_of("GET relative HTTP/1.1\r\nHost: h\r\n\r\n"), 400);     // not origin-form
    EXPECT_EQ(status_of("GET * HTTP/1.1\r\nHost: h\r\n\r\n"), 400);            // * only for OPTIONS
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
    EXPECT_EQ(status_of("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
    EXPECT_EQ(status_of("GET http://h/x HTTP/1.1\r\nHost: h\r\n\r\n"), 0);     // absolute-form
}

TEST(HttpRequestParser, RejectsBadVersionsWith400And505) {
    EXPECT_EQ(status_of("GET / HTTP/1\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / http/1.1\r\nHost: h\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/1.10\r\nHost: h\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), 505);
    EXPECT_EQ(status_of("GET / HTTP/3.0\r\nHost: h\r\n\r\n"), 505);
    EXPECT_EQ(status_of("GET / HTTP/0.9\r\n\r\n"), 505);
}

TEST(HttpRequestParser, AnswersTooLongRequestLineWith414) {
    Limits l;
    l.max_request_line = 64;
    std::string ok = "GET /" + std::string(64 - 14, 'a') + " HTTP/1.1";
    ASSERT_EQ(ok.size(), 64u);
    EXPECT_EQ(status_of(ok + "\r\nHost: h\r\n\r\n", l), 0);
    std::string line = "GET /" + std::string(100, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n";
    EXPECT_EQ(status_of(line, l), 414);
    // Without waiting for the line to end.
    EXPECT_EQ(status_of("GET /" + std::string(100, 'a'), l), 414);
    EXPECT_EQ(parse_bytewise(line, l).result.error_code, 414);
}

TEST(HttpRequestParser, AnswersTooManyFieldsWith431) {
    Limits l;
    l.max_header_count = 3;
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n", l), 0);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", l), 431);
    // Before the head is complete.
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n", l), 431);
}

TEST(HttpRequestParser, AnswersTooLargeHeadWith431) {
    Limits l;
    l.max_header_size = 256;
    std::string big = "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(300, 'x') + "\r\n\r\n";
    EXPECT_EQ(status_of(big, l), 431);
    EXPECT_EQ(status_of(big.substr(0, 280), l), 431);   // no end of line yet
    EXPECT_EQ(parse_bytewise(big, l).result.error_code, 431);
    // Empty lines before the request line count too.
    EXPECT_EQ(status_of(std::string(300, '\n'), l), 431);
}

TEST(HttpRequestParser, RejectsObsFold) {
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\n Host: h\r\n\r\n"), 400);
}

TEST(HttpRequestParser, RejectsWhitespaceBeforeTheColon) {
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost : h\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nX\t: y\r\n\r\n"), 400);
}

TEST(HttpRequestParser, RejectsBadFieldLines) {
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\n: empty\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nX(y): z\r\n\r\n"), 400);
}

TEST(HttpRequestParser, RejectsControlCharactersAndNul) {
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nX: a\x01z\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nX: a\x7fz\r\n\r\n"), 400);
    EXPECT_EQ(status_of(std::string("GET / HTTP/1.1\r\nHost: h\r\nX: a\0z\r\n\r\n", 35)), 400);
    EXPECT_EQ(status_of(std::string("GET /\0 HTTP/1.1\r\nHost: h\r\n\r\n", 29)), 400);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nX: a\rz\r\n\r\n"), 400);   // bare CR
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nX: a\tz\r\n\r\n"), 0);     // HTAB is fine
}

TEST(HttpRequestParser, RequiresExactlyOneHostOnHttp11) {
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/1.0\r\n\r\n"), 0);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost:\r\n\r\n"), 0);   // RFC 9112 3.2: may be empty
}

TEST(HttpRequestParser, ReadsContentLength) {
    Parsed p = parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 42\r\n\r\n");
    ASSERT_EQ(p.result.status, ParseStatus::done);
    EXPECT_EQ(p.head.framing, BodyFraming::content_length);
    EXPECT_EQ(p.head.content_length, 42u);
    // RFC 9112 6.3: identical duplicates may be accepted.
    p = parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5, 5\r\n\r\n");
    ASSERT_EQ(p.result.status, ParseStatus::done);
    EXPECT_EQ(p.head.content_length, 5u);
}

TEST(HttpRequestParser, RejectsBadOrConflictingContentLength) {
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n"), 400);
}

TEST(HttpRequestParser, RejectsContentLengthWithTransferEncoding) {
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                        "Content-Length: 5\r\n\r\n"), 400);
}

TEST(HttpRequestParser, AcceptsOnlyChunkedTransferEncoding) {
    Parsed p = parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n");
    ASSERT_EQ(p.result.status, ParseStatus::done);
    EXPECT_EQ(p.head.framing, BodyFraming::chunked);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 501);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n"), 501);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
}

TEST(HttpRequestParser, WorksOutPersistence) {
    EXPECT_TRUE(parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n").head.keep_alive);
    EXPECT_FALSE(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").head.keep_alive);
    EXPECT_FALSE(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, Close\r\n\r\n").head.keep_alive);
    EXPECT_FALSE(parse("GET / HTTP/1.0\r\n\r\n").head.keep_alive);
    EXPECT_TRUE(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").head.keep_alive);
}

TEST(HttpRequestParser, NotesExpect100ContinueOnHttp11Only) {
    EXPECT_TRUE(parse("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n")
                    .head.expect_continue);
    EXPECT_FALSE(parse("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n")
                     .head.expect_continue);
}

// --- Chunked bodies -------------------------------------------------------

TEST(HttpChunkedDecoder, DecodesChunksIgnoringExtensionsAndTrailers) {
    std::string body = "5;name=value\r\nhello\r\n7 ; x\r\n, world\r\n0\r\nTrailer: yes\r\n\r\nNEXT";
    Decoded d = decode(body);
    EXPECT_EQ(d.status, ParseStatus::done);
    EXPECT_EQ(d.body, "hello, world");
    EXPECT_EQ(d.consumed, body.size() - 4);   // stops before the next request
}

TEST(HttpChunkedDecoder, GivesTheSameResultWhenFedOneByteAtATime) {
    std::string body = "a\r\n0123456789\r\nA\r\nabcdefghij\r\n0\r\n\r\n";
    Decoded d = decode(body, 1);
    EXPECT_EQ(d.status, ParseStatus::done);
    EXPECT_EQ(d.body, "0123456789abcdefghij");
    EXPECT_EQ(d.consumed, body.size());
}

TEST(HttpChunkedDecoder, AcceptsUpperCaseHexAndLeadingZeros) {
    Decoded d = decode("000F\r\n0123456789abcde\r\n0000\r\n\r\n");
    EXPECT_EQ(d.status, ParseStatus::done);
    EXPECT_EQ(d.body.size(), 15u);
}

TEST(HttpChunkedDecoder, RespectsTheMaxPerStep) {
    ChunkedDecoder d{Limits{}};
    std::string in = "a\r\n0123456789\r\n0\r\n\r\n";
    ChunkedDecoder::Step s = d.step(in, 4);
    EXPECT_EQ(s.data, "0123");
    EXPECT_EQ(s.consumed, 7u);
}

TEST(HttpChunkedDecoder, RejectsBadChunkSizes) {
    EXPECT_EQ(decode("g\r\nx\r\n0\r\n\r\n").error, 400);           // non-hex
    EXPECT_EQ(decode("\r\nx\r\n0\r\n\r\n").error, 400);            // empty
    EXPECT_EQ(decode("-1\r\nx\r\n0\r\n\r\n").error, 400);
    EXPECT_EQ(decode("0x5\r\nhello\r\n0\r\n\r\n").error, 400);
    EXPECT_EQ(decode("5 5\r\nhello\r\n0\r\n\r\n").error, 400);
    EXPECT_EQ(decode("10000000000000000\r\n").error, 400);         // 2^64: overflow
    EXPECT_EQ(decode("fffffffffffffffff\r\n").error, 400);
    EXPECT_EQ(decode(std::string(5000, '0')).error, 400);          // endless size line
}

TEST(HttpChunkedDecoder, RequiresCrlfAroundChunkData) {
    EXPECT_EQ(decode("5\nhello\r\n0\r\n\r\n").error, 400);         // bare LF after size
    EXPECT_EQ(decode("5\r\nhelloX\r\n0\r\n\r\n").error, 400);      // data longer than size
    EXPECT_EQ(decode("5\r\nhello\n0\r\n\r\n").error, 400);         // bare LF after data
    EXPECT_EQ(decode("5\r\nhello\r\n0\r\n\n").error, 400);         // bare LF ends trailers
    EXPECT_EQ(decode("5\r\nhello\r\n0\r\nX: y\n\r\n").error, 400);
}

TEST(HttpChunkedDecoder, RejectsBadTrailersAndControlCharactersInExtensions) {
    EXPECT_EQ(decode("0\r\nBad Trailer: x\r\n\r\n").error, 400);
    EXPECT_EQ(decode("0\r\n folded\r\n\r\n").error, 400);
    EXPECT_EQ(decode("1;a\x01\r\nx\r\n0\r\n\r\n").error, 400);
    Limits l;
    l.max_header_count = 2;
    EXPECT_EQ(decode("0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 0, l).error, 431);
    l = Limits{};
    l.max_header_size = 256;
    EXPECT_EQ(decode("0\r\nA: " + std::string(300, 'a') + "\r\n\r\n", 0, l).error, 431);
}

TEST(HttpChunkedDecoder, WaitsForMoreInputAtEveryStage) {
    for (std::string partial : {"5", "5\r", "5\r\nhel", "5\r\nhello", "5\r\nhello\r", "5\r\nhello\r\n0\r\n",
                                "5\r\nhello\r\n0\r\nX: y\r\n"}) {
        Decoded d = decode(partial);
        EXPECT_EQ(d.status, ParseStatus::need_more) << partial;
        EXPECT_EQ(d.error, 0) << partial;
    }
}

TEST(HttpToken, MatchesRfc9110Tchar) {
    EXPECT_TRUE(is_token("GET"));
    EXPECT_TRUE(is_token("X-Custom_1.0!#$%&'*+^`|~"));
    EXPECT_FALSE(is_token(""));
    EXPECT_FALSE(is_token("a b"));
    EXPECT_FALSE(is_token("a:b"));
    EXPECT_FALSE(is_token("a\"b"));
}

}  // namespace
}  // namespace sockhost::sdk::http
