// SPDX-License-Identifier: MIT
// The largest datagram UDP allows (65,507 bytes over IPv4) reaches echo
// whole and comes back whole under the default max_packet_size (issue 14:
// it was dropped with a log line at Python's 8192).
#include <sys/socket.h>

#include <string>

#include <gtest/gtest.h>

#include "support/host_process.hpp"

namespace sockhost::testing {
namespace {

class LargestDatagram : public ::testing::TestWithParam<std::string> {};

TEST_P(LargestDatagram, IsEchoedWhole) {
    TempDir dir;
    const std::string listen =
        GetParam() == "udp" ? std::string("udp://127.0.0.1:0") : "unixgram://" + (dir / "d.sock").string();
    HostProcess host(dir, host_section() + "[[server]]\nname = \"d\"\nlisten = \"" + listen +
                              "\"\nplugin = \"echo\"\nconcurrency = \"sync\"\n");
    Socket s = datagram_client(host.url("d"), dir.path());
    int big = 1 << 20;
    ::setsockopt(s.fd(), SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    ::setsockopt(s.fd(), SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    std::string payload(65507, 'x');
    for (std::size_t i = 0; i < payload.size(); i += 101) payload[i] = static_cast<char>('a' + i % 26);
    ASSERT_EQ(::send(s.fd(), payload.data(), payload.size(), 0), static_cast<ssize_t>(payload.size()));
    std::string back(70000, '\0');
    timeval tv{5, 0};
    ::setsockopt(s.fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const ssize_t n = ::recv(s.fd(), back.data(), back.size(), 0);
    ASSERT_EQ(n, static_cast<ssize_t>(payload.size())) << host.log();
    back.resize(static_cast<std::size_t>(n));
    EXPECT_EQ(back, payload);
    EXPECT_EQ(host.log().find("larger than max_packet_size"), std::string::npos) << host.log();
    EXPECT_EQ(host.stop(), 0);
}

INSTANTIATE_TEST_SUITE_P(Transports, LargestDatagram, ::testing::Values("udp", "unixgram"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace sockhost::testing
