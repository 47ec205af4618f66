// SPDX-License-Identifier: MIT
// The echo handlers under the SDK test kit (no sockets).
#include <gtest/gtest.h>

#include <sockhost/sdk.hpp>
#include <sockhost/sdk/testkit.hpp>

#include "echo/echo.hpp"

namespace testkit = sockhost::sdk::testkit;

namespace {

TEST(EchoPlugin, StreamHandlerEchoesBinaryBytesUnderTheTestKit) {
    std::string input("a\0b\r\n\xff", 6);
    sockhost::plugins::echo::EchoStreamHandler h;
    testkit::FakeServer server;
    auto r = testkit::run_stream(h, input, server, 1);
    EXPECT_EQ(r.output, input);
    EXPECT_FALSE(r.error);
}

TEST(EchoPlugin, DatagramHandlerRepliesWithTheDatagram) {
    sockhost::plugins::echo::EchoDatagramHandler h;
    testkit::FakeServer server;
    auto r = testkit::run_datagram(h, "ping", server);
    EXPECT_EQ(r.output, "ping");
}

}  // namespace
