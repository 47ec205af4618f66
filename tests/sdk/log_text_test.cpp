// SPDX-License-Identifier: MIT
// The log escaper and the access line formats.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "sockhost/sdk/log_text.hpp"

namespace sockhost::sdk {
namespace {

SocketAddress loopback(std::uint16_t port) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(port);
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return SocketAddress(reinterpret_cast<const sockaddr*>(&in), sizeof in);
}

TEST(LogText, EscapesControlsQuotesBackslashesAndHighBytesOnce) {
    EXPECT_EQ(escape_log_text("plain text"), "plain text");
    EXPECT_EQ(escape_log_text("a\nb\rc\td"), "a\\nb\\rc\\td");
    EXPECT_EQ(escape_log_text("\x1b[31m\x7f"), "\\x1b[31m\\x7f");
    EXPECT_EQ(escape_log_text("say \"hi\" \\ "), "say \\x22hi\\x22 \\x5c ");
    EXPECT_EQ(escape_log_text("caf\xc3\xa9"), "caf\\xc3\\xa9");
}

TEST(AccessLine, CommonLogFormatEscapesTheRequestLine) {
    const SocketAddress client = loopback(4000);
    AccessRecord r;
    r.client = &client;
    r.request_line = "GET /a\"b\x01 HTTP/1.1";
    r.status = 404;
    r.body_bytes = 12;
    const std::string line = format_access_line(r, AccessLogFormat::clf, "web");
    EXPECT_TRUE(std::regex_match(line, std::regex(R"(127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000\] .*)")))
        << line;
    EXPECT_NE(line.find("] \"GET /a\\x22b\\x01 HTTP/1.1\" 404 12"), std::string::npos) << line;
}

TEST(AccessLine, CombinedAddsRefererAndUserAgent) {
    AccessRecord r;
    r.request_line = "GET / HTTP/1.1";
    r.status = 200;
    r.user_agent = "curl/7.88";
    const std::string line = format_access_line(r, AccessLogFormat::combined, "web");
    EXPECT_EQ(line.rfind("- - - [", 0), 0u) << line;   // no client address: "-"
    EXPECT_NE(line.find("\" 200 0 \"-\" \"curl/7.88\""), std::string::npos) << line;
}

TEST(AccessLine, JsonCarriesEveryFieldAsValidJson) {
    const SocketAddress client = loopback(4000);
    const SocketAddress peer = loopback(5000);
    TlsInfo tls;
    tls.protocol = "TLSv1.3";
    AccessRecord r;
    r.client = &client;
    r.peer = &peer;
    r.tls = &tls;
    r.method = "GET";
    r.target = "/x\"y\n";
    r.protocol = "HTTP/1.1";
    r.status = 200;
    r.body_bytes = 5;
    r.duration = std::chrono::microseconds(1500);
    r.aborted = true;
    const std::string line = format_access_line(r, AccessLogFormat::json, "web");
    EXPECT_NE(line.find("\"server\":\"web\",\"client\":\"127.0.0.1\",\"peer\":\"127.0.0.1\""), std::string::npos) << line;
    EXPECT_NE(line.find("\"method\":\"GET\",\"target\":\"/x\\\"y\\u000a\",\"protocol\":\"HTTP/1.1\""), std::string::npos) << line;
    EXPECT_NE(line.find("\"status\":200,\"body_bytes_sent\":5,\"duration_ms\":1.500,\"tls\":\"TLSv1.3\",\"aborted\":true}"),
              std::string::npos)
        << line;
    EXPECT_EQ(line.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace sockhost::sdk
