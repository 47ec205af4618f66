// SPDX-License-Identifier: MIT
// Handler lifecycle: setup, handle, finish, with finish guaranteed.
#include <gtest/gtest.h>

#include <sockhost/sdk.hpp>
#include <sockhost/sdk/testkit.hpp>

namespace sdk = sockhost::sdk;
namespace testkit = sockhost::sdk::testkit;

namespace {

struct Recorder : sdk::StreamRequestHandler {
    std::vector<std::string>* calls;
    bool throw_in_setup = false;
    bool throw_in_handle = false;
    explicit Recorder(std::vector<std::string>* c) : calls(c) {}
    void setup() override {
        sdk::StreamRequestHandler::setup();
        calls->push_back("setup");
        if (throw_in_setup) throw std::runtime_error("setup failed");
    }
    void handle() override {
        calls->push_back("handle");
        if (throw_in_handle) throw sdk::HandlerError("handle failed");
        wfile().write("ok");
    }
    void finish() override {
        calls->push_back("finish");
        sdk::StreamRequestHandler::finish();
    }
};

TEST(HandlerLifecycle, CallsSetupHandleFinishInOrder) {
    std::vector<std::string> calls;
    Recorder h(&calls);
    testkit::FakeServer server;
    auto r = testkit::run_stream(h, "", server);
    EXPECT_EQ(calls, (std::vector<std::string>{"setup", "handle", "finish"}));
    EXPECT_EQ(r.output, "ok");
    EXPECT_FALSE(r.error);
}

TEST(HandlerLifecycle, FinishRunsAfterHandleThrowsAndErrorIsRethrown) {
    std::vector<std::string> calls;
    Recorder h(&calls);
    h.throw_in_handle = true;
    testkit::FakeServer server;
    auto r = testkit::run_stream(h, "", server);
    EXPECT_EQ(calls, (std::vector<std::string>{"setup", "handle", "finish"}));
    ASSERT_TRUE(r.error);
    EXPECT_THROW(std::rethrow_exception(r.error), sdk::HandlerError);
}

TEST(HandlerLifecycle, FinishRunsAfterSetupThrowsButHandleDoesNot) {
    std::vector<std::string> calls;
    Recorder h(&calls);
    h.throw_in_setup = true;
    testkit::FakeServer server;
    auto r = testkit::run_stream(h, "", server);
    EXPECT_EQ(calls, (std::vector<std::string>{"setup", "finish"}));
    ASSERT_TRUE(r.error);
}

TEST(Reader, ReadlineHonoursLimitAndEof) {
    testkit::MemoryStream s("abc\ndefghij\nxyz", 2);
    sdk::Reader r(s, 3);
    EXPECT_EQ(r.readline(), "abc\n");
    EXPECT_EQ(r.readline(4), "defg");
    EXPECT_EQ(r.readline(), "hij\n");
    EXPECT_EQ(r.readline(), "xyz");
    EXPECT_EQ(r.readline(), "");
    EXPECT_TRUE(r.at_eof());
}

TEST(Reader, ReadReturnsShortOnlyAtEof) {
    testkit::MemoryStream s("0123456789", 3);
    sdk::Reader r(s, 4);
    EXPECT_EQ(r.read(7), "0123456");
    EXPECT_EQ(r.read1(10).size() <= 3u, true);
    EXPECT_EQ(r.read_all().size() + 7 <= 10u, true);
}

}  // namespace
