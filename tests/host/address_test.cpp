// SPDX-License-Identifier: MIT
// Listen addresses and CIDR ranges: parse, print, sockaddr, match.
#include "host/address.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstring>
#include <stdexcept>
#include <string>

using sockhost::host::Cidr;
using sockhost::host::ListenAddress;
using sockhost::host::parse_cidr;
using sockhost::host::parse_listen_address;
using sockhost::host::Scheme;

namespace {

// The message parse_listen_address throws for `text`, or "" when it accepts it.
std::string listen_error(const std::string& text) {
    try {
        parse_listen_address(text);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "";
}

std::string cidr_error(const std::string& text) {
    try {
        parse_cidr(text);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "";
}

sockaddr_storage ipv4(const char* text, std::uint16_t port = 1234) {
    sockaddr_storage ss{};
    auto* in = reinterpret_cast<sockaddr_in*>(&ss);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    EXPECT_EQ(inet_pton(AF_INET, text, &in->sin_addr), 1) << text;
    return ss;
}

sockaddr_storage ipv6(const char* text, std::uint16_t port = 1234) {
    sockaddr_storage ss{};
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    EXPECT_EQ(inet_pton(AF_INET6, text, &in6->sin6_addr), 1) << text;
    return ss;
}

bool contains(const std::string& cidr, const sockaddr_storage& client) {
    return parse_cidr(cidr).contains(reinterpret_cast<const sockaddr*>(&client));
}

}  // namespace

// --- parse_listen_address: accepted forms ---

TEST(ListenAddress, ParsesTcpIpv4HostAndPort) {
    auto a = parse_listen_address("tcp://127.0.0.1:8000");
    EXPECT_EQ(a.scheme, Scheme::tcp);
    EXPECT_EQ(a.host, "127.0.0.1");
    EXPECT_EQ(a.port, 8000);
    EXPECT_TRUE(a.path.empty());
    EXPECT_EQ(a.family(), AF_INET);
    EXPECT_EQ(a.socket_type(), SOCK_STREAM);
    EXPECT_TRUE(a.is_stream());
    EXPECT_FALSE(a.is_unix());
}

TEST(ListenAddress, ParsesUdpAsDatagram) {
    auto a = parse_listen_address("udp://0.0.0.0:9999");
    EXPECT_EQ(a.scheme, Scheme::udp);
    EXPECT_EQ(a.host, "0.0.0.0");
    EXPECT_EQ(a.port, 9999);
    EXPECT_EQ(a.socket_type(), SOCK_DGRAM);
    EXPECT_FALSE(a.is_stream());
}

TEST(ListenAddress, AcceptsPortZeroForAnEphemeralPort) {
    EXPECT_EQ(parse_listen_address("tcp://127.0.0.1:0").port, 0);
    EXPECT_EQ(parse_listen_address("udp://[::1]:0").port, 0);
}

TEST(ListenAddress, AcceptsTheHighestPort) {
    EXPECT_EQ(parse_listen_address("tcp://127.0.0.1:65535").port, 65535);
}

TEST(ListenAddress, ParsesBracketedIpv6LoopbackWithoutBrackets) {
    auto a = parse_listen_address("tcp://[::1]:80");
    EXPECT_EQ(a.host, "::1");
    EXPECT_EQ(a.port, 80);
    EXPECT_EQ(a.family(), AF_INET6);
}

TEST(ListenAddress, ParsesIpv6Wildcard) {
    auto a = parse_listen_address("udp://[::]:5353");
    EXPECT_EQ(a.host, "::");
    EXPECT_EQ(a.family(), AF_INET6);
}

TEST(ListenAddress, CanonicalisesIpv6SoEqualAddressesCompareEqual) {
    EXPECT_EQ(parse_listen_address("tcp://[0:0:0:0:0:0:0:1]:80"), parse_listen_address("tcp://[::1]:80"));
    EXPECT_EQ(parse_listen_address("tcp://[2001:DB8::1]:80").host, "2001:db8::1");
}

TEST(ListenAddress, ParsesUnixStreamPath) {
    auto a = parse_listen_address("unix:///tmp/echo.sock");
    EXPECT_EQ(a.scheme, Scheme::unix_stream);
    EXPECT_EQ(a.path, "/tmp/echo.sock");
    EXPECT_TRUE(a.host.empty());
    EXPECT_EQ(a.family(), AF_UNIX);
    EXPECT_EQ(a.socket_type(), SOCK_STREAM);
    EXPECT_TRUE(a.is_unix());
}

TEST(ListenAddress, ParsesUnixDatagramPath) {
    auto a = parse_listen_address("unixgram:///tmp/echo.dgram");
    EXPECT_EQ(a.scheme, Scheme::unix_datagram);
    EXPECT_EQ(a.path, "/tmp/echo.dgram");
    EXPECT_EQ(a.socket_type(), SOCK_DGRAM);
}

TEST(ListenAddress, KeepsRelativeUnixPathAsWritten) {
    EXPECT_EQ(parse_listen_address("unix://run/x.sock").path, "run/x.sock");
}

TEST(ListenAddress, AcceptsUnixPathOf107BytesAndRejects108) {
    std::string ok(107, 'a');
    EXPECT_EQ(parse_listen_address("unix://" + ok).path, ok);
    EXPECT_EQ(listen_error("unix://" + std::string(108, 'a')),
              "Unix socket path too long (max 107 bytes, got 108)");
}

// --- parse_listen_address: rejected forms ---

TEST(ListenAddress, RejectsUnknownScheme) {
    EXPECT_EQ(listen_error("http://127.0.0.1:80"),
              "unknown scheme 'http' (expected tcp, udp, unix or unixgram)");
}

TEST(ListenAddress, RejectsSchemesInAnotherCase) {
    EXPECT_EQ(listen_error("TCP://127.0.0.1:80"),
              "unknown scheme 'TCP' (expected tcp, udp, unix or unixgram)");
}

TEST(ListenAddress, RejectsAddressWithoutScheme) {
    EXPECT_EQ(listen_error("127.0.0.1:80"),
              "missing scheme in '127.0.0.1:80' (expected tcp://, udp://, unix:// or unixgram://)");
}

TEST(ListenAddress, RejectsHostNamesBecauseItNeverResolves) {
    EXPECT_EQ(listen_error("tcp://localhost:80"),
              "host must be a numeric IP address, got 'localhost' (sockhost never resolves names)");
    EXPECT_NE(listen_error("udp://example.com:53"), "");
}

TEST(ListenAddress, RejectsIncompleteIpv4) {
    EXPECT_NE(listen_error("tcp://127.1:80").find("numeric IP address"), std::string::npos);
    EXPECT_NE(listen_error("tcp://256.0.0.1:80"), "");
}

TEST(ListenAddress, RejectsMissingPort) {
    EXPECT_EQ(listen_error("tcp://127.0.0.1"),
              "missing port in 'tcp://127.0.0.1' (expected SCHEME://HOST:PORT)");
    EXPECT_EQ(listen_error("tcp://127.0.0.1:"),
              "missing port in 'tcp://127.0.0.1:' (expected SCHEME://HOST:PORT)");
    EXPECT_EQ(listen_error("tcp://[::1]"), "missing port in 'tcp://[::1]' (expected SCHEME://[HOST]:PORT)");
}

TEST(ListenAddress, RejectsJunkAfterPort) {
    EXPECT_EQ(listen_error("tcp://127.0.0.1:80x"), "bad port '80x' in 'tcp://127.0.0.1:80x'");
    EXPECT_EQ(listen_error("tcp://127.0.0.1:80/"), "bad port '80/' in 'tcp://127.0.0.1:80/'");
    EXPECT_EQ(listen_error("tcp://127.0.0.1: 80"), "bad port ' 80' in 'tcp://127.0.0.1: 80'");
    EXPECT_EQ(listen_error("tcp://127.0.0.1:-1"), "bad port '-1' in 'tcp://127.0.0.1:-1'");
}

TEST(ListenAddress, RejectsJunkAfterClosingBracket) {
    EXPECT_EQ(listen_error("tcp://[::1]x:80"), "unexpected 'x:80' after ']' in 'tcp://[::1]x:80'");
}

TEST(ListenAddress, RejectsPortOutOfRange) {
    EXPECT_EQ(listen_error("tcp://127.0.0.1:70000"), "port 70000 out of range (0..65535)");
    EXPECT_EQ(listen_error("tcp://127.0.0.1:65536"), "port 65536 out of range (0..65535)");
    EXPECT_EQ(listen_error("udp://[::1]:99999999999999999999999"),
              "port 99999999999999999999999 out of range (0..65535)");
}

TEST(ListenAddress, RejectsEmptyHost) {
    EXPECT_EQ(listen_error("tcp://:80"),
              "missing host in 'tcp://:80' (use 0.0.0.0 or [::] for all interfaces)");
    EXPECT_EQ(listen_error("tcp://[]:80"), "missing host in 'tcp://[]:80'");
    EXPECT_EQ(listen_error("tcp://"), "missing host and port in 'tcp://'");
}

TEST(ListenAddress, RejectsUnbracketedIpv6) {
    EXPECT_EQ(listen_error("tcp://::1:80"),
              "IPv6 address must be in brackets in 'tcp://::1:80' (e.g. tcp://[::1]:8000)");
}

TEST(ListenAddress, RejectsBadIpv6InBrackets) {
    EXPECT_EQ(listen_error("tcp://[::g]:80"), "bad IPv6 address '::g' in 'tcp://[::g]:80'");
    EXPECT_EQ(listen_error("tcp://[127.0.0.1]:80"), "bad IPv6 address '127.0.0.1' in 'tcp://[127.0.0.1]:80'");
    EXPECT_EQ(listen_error("tcp://[::1:80"), "missing ']' after IPv6 address in 'tcp://[::1:80'");
}

TEST(ListenAddress, RejectsEmptyUnixPath) {
    EXPECT_EQ(listen_error("unix://"), "missing Unix socket path in 'unix://'");
    EXPECT_EQ(listen_error("unixgram://"), "missing Unix socket path in 'unixgram://'");
}

TEST(ListenAddress, RejectsUnixPathWithNulByte) {
    EXPECT_EQ(listen_error(std::string("unix:///tmp/a\0b", 16)), "Unix socket path contains a NUL byte");
}

// --- str(), family(), to_sockaddr() ---

TEST(ListenAddress, PrintsCanonicalForms) {
    EXPECT_EQ(parse_listen_address("tcp://127.0.0.1:8000").str(), "tcp://127.0.0.1:8000");
    EXPECT_EQ(parse_listen_address("tcp://[::1]:80").str(), "tcp://[::1]:80");
    EXPECT_EQ(parse_listen_address("udp://[::]:0").str(), "udp://[::]:0");
    EXPECT_EQ(parse_listen_address("unix:///tmp/x.sock").str(), "unix:///tmp/x.sock");
    EXPECT_EQ(parse_listen_address("unixgram://rel.dgram").str(), "unixgram://rel.dgram");
}

TEST(ListenAddress, StrRoundTripsThroughParse) {
    for (const char* text :
         {"tcp://10.1.2.3:1", "udp://[fe80::1]:65535", "unix:///run/a b.sock", "unixgram:///tmp/d"}) {
        auto a = parse_listen_address(text);
        EXPECT_EQ(parse_listen_address(a.str()), a) << text;
    }
}

TEST(ListenAddress, FillsSockaddrInForIpv4) {
    sockaddr_storage ss;
    auto len = parse_listen_address("tcp://127.0.0.1:8080").to_sockaddr(ss);
    ASSERT_EQ(len, sizeof(sockaddr_in));
    const auto* in = reinterpret_cast<const sockaddr_in*>(&ss);
    EXPECT_EQ(in->sin_family, AF_INET);
    EXPECT_EQ(ntohs(in->sin_port), 8080);
    EXPECT_EQ(ntohl(in->sin_addr.s_addr), INADDR_LOOPBACK);
}

TEST(ListenAddress, FillsSockaddrIn6ForIpv6) {
    sockaddr_storage ss;
    auto len = parse_listen_address("udp://[::1]:53").to_sockaddr(ss);
    ASSERT_EQ(len, sizeof(sockaddr_in6));
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    EXPECT_EQ(in6->sin6_family, AF_INET6);
    EXPECT_EQ(ntohs(in6->sin6_port), 53);
    EXPECT_TRUE(IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr));
}

TEST(ListenAddress, FillsSockaddrUnWithTerminatedPath) {
    sockaddr_storage ss;
    auto len = parse_listen_address("unix:///tmp/x.sock").to_sockaddr(ss);
    const auto* un = reinterpret_cast<const sockaddr_un*>(&ss);
    EXPECT_EQ(un->sun_family, AF_UNIX);
    EXPECT_STREQ(un->sun_path, "/tmp/x.sock");
    EXPECT_EQ(len, offsetof(sockaddr_un, sun_path) + std::strlen("/tmp/x.sock") + 1);
}

TEST(ListenAddress, FillsSockaddrUnForLongestPath) {
    std::string path(107, 'p');
    sockaddr_storage ss;
    auto len = parse_listen_address("unixgram://" + path).to_sockaddr(ss);
    const auto* un = reinterpret_cast<const sockaddr_un*>(&ss);
    EXPECT_EQ(std::string(un->sun_path), path);
    EXPECT_EQ(len, sizeof(sockaddr_un));
}

// --- CIDR ---

TEST(AddressCidr, ParsesIpv4Network) {
    auto c = parse_cidr("10.0.0.0/8");
    EXPECT_EQ(c.family, AF_INET);
    EXPECT_EQ(c.prefix, 8);
    EXPECT_EQ(c.bytes[0], 10);
    EXPECT_EQ(c.str(), "10.0.0.0/8");
}

TEST(AddressCidr, ParsesIpv6Network) {
    auto c = parse_cidr("::1/128");
    EXPECT_EQ(c.family, AF_INET6);
    EXPECT_EQ(c.prefix, 128);
    EXPECT_EQ(c.str(), "::1/128");
}

TEST(AddressCidr, TreatsBareAddressAsFullPrefix) {
    EXPECT_EQ(parse_cidr("127.0.0.1").str(), "127.0.0.1/32");
    EXPECT_EQ(parse_cidr("2001:db8::5").str(), "2001:db8::5/128");
}

TEST(AddressCidr, AcceptsHostBitsButNormalisesToTheNetwork) {
    EXPECT_EQ(parse_cidr("10.1.2.3/8").str(), "10.0.0.0/8");
    EXPECT_EQ(parse_cidr("192.168.1.77/27").str(), "192.168.1.64/27");
    EXPECT_EQ(parse_cidr("2001:db8:ffff::1/32").str(), "2001:db8::/32");
}

TEST(AddressCidr, AcceptsZeroPrefix) {
    EXPECT_EQ(parse_cidr("1.2.3.4/0").str(), "0.0.0.0/0");
    EXPECT_EQ(parse_cidr("::/0").str(), "::/0");
}

TEST(AddressCidr, RejectsPrefixBeyondTheFamily) {
    EXPECT_EQ(cidr_error("10.0.0.0/33"), "bad CIDR range '10.0.0.0/33' (prefix must be 0..32)");
    EXPECT_EQ(cidr_error("::/129"), "bad CIDR range '::/129' (prefix must be 0..128)");
}

TEST(AddressCidr, RejectsMalformedPrefix) {
    EXPECT_EQ(cidr_error("10.0.0.0/"), "bad CIDR range '10.0.0.0/' (prefix must be 0..32)");
    EXPECT_EQ(cidr_error("10.0.0.0/-1"), "bad CIDR range '10.0.0.0/-1' (prefix must be 0..32)");
    EXPECT_EQ(cidr_error("10.0.0.0/8x"), "bad CIDR range '10.0.0.0/8x' (prefix must be 0..32)");
    EXPECT_EQ(cidr_error("10.0.0.0/0008"), "bad CIDR range '10.0.0.0/0008' (prefix must be 0..32)");
}

TEST(AddressCidr, RejectsNamesAndGarbage) {
    EXPECT_EQ(cidr_error("localhost/8"), "bad CIDR range 'localhost/8' (not a numeric IPv4 or IPv6 address)");
    EXPECT_EQ(cidr_error(""), "bad CIDR range '' (missing address)");
    EXPECT_EQ(cidr_error("/8"), "bad CIDR range '/8' (missing address)");
}

TEST(AddressCidr, ContainsIpv4AddressesInsideTheRange) {
    EXPECT_TRUE(contains("10.0.0.0/8", ipv4("10.255.1.2")));
    EXPECT_FALSE(contains("10.0.0.0/8", ipv4("11.0.0.1")));
    EXPECT_TRUE(contains("192.168.1.64/27", ipv4("192.168.1.95")));
    EXPECT_FALSE(contains("192.168.1.64/27", ipv4("192.168.1.96")));
    EXPECT_TRUE(contains("0.0.0.0/0", ipv4("203.0.113.9")));
    EXPECT_TRUE(contains("127.0.0.1", ipv4("127.0.0.1")));
    EXPECT_FALSE(contains("127.0.0.1", ipv4("127.0.0.2")));
}

TEST(AddressCidr, ContainsIpv6AddressesInsideTheRange) {
    EXPECT_TRUE(contains("::1/128", ipv6("::1")));
    EXPECT_FALSE(contains("::1/128", ipv6("::2")));
    EXPECT_TRUE(contains("2001:db8::/32", ipv6("2001:db8:1234::9")));
    EXPECT_FALSE(contains("2001:db8::/32", ipv6("2001:db9::9")));
    EXPECT_TRUE(contains("fe80::/10", ipv6("febf::1")));
    EXPECT_FALSE(contains("fe80::/10", ipv6("fec0::1")));
}

TEST(AddressCidr, MatchesIpv4MappedClientsAgainstIpv4Ranges) {
    EXPECT_TRUE(contains("10.0.0.0/8", ipv6("::ffff:10.1.2.3")));
    EXPECT_FALSE(contains("10.0.0.0/8", ipv6("::ffff:11.1.2.3")));
    EXPECT_TRUE(contains("127.0.0.1", ipv6("::ffff:127.0.0.1")));
}

TEST(AddressCidr, MatchesIpv4ClientsAgainstMappedIpv6Ranges) {
    EXPECT_TRUE(contains("::ffff:10.0.0.0/104", ipv4("10.9.9.9")));
    EXPECT_FALSE(contains("::ffff:10.0.0.0/104", ipv4("11.9.9.9")));
}

TEST(AddressCidr, DoesNotMatchAcrossFamiliesOtherwise) {
    EXPECT_FALSE(contains("10.0.0.0/8", ipv6("::a01:203")));  // IPv4-compatible, not mapped
    EXPECT_FALSE(contains("0.0.0.0/0", ipv6("::1")));
    EXPECT_FALSE(contains("::/0", ipv4("10.0.0.1")));
    EXPECT_FALSE(contains("::1/128", ipv4("127.0.0.1")));
}

TEST(AddressCidr, DoesNotContainUnixOrNullClients) {
    sockaddr_storage ss{};
    ss.ss_family = AF_UNIX;
    auto c = parse_cidr("0.0.0.0/0");
    EXPECT_FALSE(c.contains(reinterpret_cast<const sockaddr*>(&ss)));
    EXPECT_FALSE(c.contains(nullptr));
}
