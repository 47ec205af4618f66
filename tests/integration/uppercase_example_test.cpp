// SPDX-License-Identifier: MIT
// examples/uppercase (the README's "write a plugin" example), built in tree
// as test_plugins/libuppercase.so by tests/scripts.cmake: its handlers under
// the SDK test kit (made by the plugin's own factory, loaded like the host
// loads it), then the real sockhost binary serving it over tcp and udp.
#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <sockhost/sdk.hpp>
#include <sockhost/sdk/testkit.hpp>

#include "host/plugin_loader.hpp"
#include "support/host_process.hpp"

namespace sockhost::testing {
namespace {

namespace sdk = sockhost::sdk;
namespace testkit = sockhost::sdk::testkit;

const std::string kPlugin = std::string(SOCKHOST_TEST_PLUGIN_DIR) + "/libuppercase.so";

/// The example loaded through the host's own loader (ABI checks included).
class UppercaseExampleKit : public ::testing::Test {
protected:
    void SetUp() override {
        plugin_ = registry_.load(kPlugin);
        factory_ = plugin_->info.make_factory(sdk::Options{});
    }
    /// Runs a fresh stream handler from the plugin's factory over `input`.
    testkit::Result stream(std::string input, std::size_t chunk = static_cast<std::size_t>(-1)) {
        auto handler = factory_(sdk::Transport::stream);
        auto* h = dynamic_cast<sdk::StreamRequestHandler*>(handler.get());
        EXPECT_NE(h, nullptr);
        if (h == nullptr) return {};
        return testkit::run_stream(*h, std::move(input), server_, chunk);
    }
    /// Runs a fresh datagram handler from the plugin's factory on one datagram.
    testkit::Result datagram(std::string payload) {
        auto handler = factory_(sdk::Transport::datagram);
        EXPECT_NE(handler, nullptr);
        if (handler == nullptr) return {};
        return testkit::run_datagram(*handler, std::move(payload), server_);
    }

    host::PluginRegistry registry_{SOCKHOST_TEST_PLUGIN_DIR};
    std::shared_ptr<const host::LoadedPlugin> plugin_;
    sdk::HandlerFactory factory_;
    testkit::FakeServer server_;
};

TEST_F(UppercaseExampleKit, DeclaresBothTransportsAndNoOptions) {
    EXPECT_EQ(plugin_->info.name, "uppercase");
    EXPECT_TRUE(sdk::serves(plugin_->info.transports, sdk::Transport::stream));
    EXPECT_TRUE(sdk::serves(plugin_->info.transports, sdk::Transport::datagram));
    EXPECT_NO_THROW(plugin_->info.validate_options(sdk::Options{}));
    EXPECT_THROW(plugin_->info.validate_options(sdk::Options{{"shout", true}}), sdk::OptionError);
}

TEST_F(UppercaseExampleKit, StreamAnswersTheFirstLineUpperCased) {
    auto r = stream("hello, World 42\nsecond line\n", 1);   // a byte at a time
    EXPECT_FALSE(r.error);
    EXPECT_EQ(r.output, "HELLO, WORLD 42\n");
}

TEST_F(UppercaseExampleKit, StreamAnswersAnUnterminatedLineAndNothingForNothing) {
    EXPECT_EQ(stream("no newline").output, "NO NEWLINE");
    auto empty = stream("");
    EXPECT_FALSE(empty.error);
    EXPECT_EQ(empty.output, "");
}

TEST_F(UppercaseExampleKit, StreamLeavesNonAsciiBytesAlone) {
    std::string in("caf\xc3\xa9\0x\xff\n", 8);
    std::string out("CAF\xc3\xa9\0X\xff\n", 8);
    EXPECT_EQ(stream(in).output, out);
}

TEST_F(UppercaseExampleKit, StreamLogsWhoWrote) {
    stream("hi\n");
    bool found = false;
    for (const auto& line : server_.lines()) found |= line.find("wrote 3 bytes") != std::string::npos;
    EXPECT_TRUE(found);
}

TEST_F(UppercaseExampleKit, DatagramIsAnsweredUpperCased) {
    EXPECT_EQ(datagram("ping me").output, "PING ME");
    EXPECT_EQ(datagram(std::string("a\0b", 3)).output, std::string("A\0B", 3));
    EXPECT_EQ(datagram("").output, "");
}

// --- the real host -------------------------------------------------------

struct Case {
    std::string scheme;        // tcp | udp
    std::string concurrency;   // sync | threading | forking
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.scheme << "/" << c.concurrency; }

class UppercaseExample : public ::testing::TestWithParam<Case> {
protected:
    std::string config() const {
        return host_section() + "[[server]]\nname = \"upper\"\nlisten = \"" + GetParam().scheme +
               "://127.0.0.1:0\"\nplugin = \"" + kPlugin + "\"\nconcurrency = \"" +
               GetParam().concurrency + "\"\n";
    }
    TempDir dir_;
};

std::string tcp_client(const std::string& url, int id) {
    Socket s = connect_stream(url);
    const std::string line = "client " + std::to_string(id) + " says hi\n";
    s.send_all(line);
    std::string got = s.read_all(10s);   // one line, then the server closes
    std::string want = "CLIENT " + std::to_string(id) + " SAYS HI\n";
    return got == want ? "ok" : "client " + std::to_string(id) + " got [" + got + "]";
}

std::string udp_client(const std::string& url, const std::filesystem::path& dir, int id) {
    Socket s = datagram_client(url, dir);
    for (int i = 0; i < 3; ++i) {
        std::string msg = "dgram " + std::to_string(id) + "/" + std::to_string(i);
        std::string want = "DGRAM " + std::to_string(id) + "/" + std::to_string(i);
        std::string got = datagram_roundtrip(s, msg, 5s);
        if (got != want) return "client " + std::to_string(id) + " sent " + msg + " got [" + got + "]";
    }
    return "ok";
}

TEST_P(UppercaseExample, ConcurrentClientsGetTheirOwnTextUpperCased) {
    HostProcess host(dir_, config());
    const std::string url = host.url("upper");
    std::vector<std::future<std::string>> clients;
    for (int id = 0; id < 4; ++id) {
        clients.push_back(std::async(std::launch::async, [&, id] {
            return GetParam().scheme == "tcp" ? tcp_client(url, id) : udp_client(url, dir_.path(), id);
        }));
    }
    for (auto& c : clients) {
        ASSERT_EQ(c.wait_for(30s), std::future_status::ready);
        EXPECT_EQ(c.get(), "ok");
    }
    EXPECT_EQ(host.stop(), 0) << host.log();
}

INSTANTIATE_TEST_SUITE_P(Transports, UppercaseExample,
                         ::testing::Values(Case{"tcp", "sync"}, Case{"tcp", "threading"},
                                           Case{"tcp", "forking"}, Case{"udp", "sync"},
                                           Case{"udp", "threading"}, Case{"udp", "forking"}),
                         [](const ::testing::TestParamInfo<Case>& info) {
                             return info.param.scheme + "_" + info.param.concurrency;
                         });

TEST(UppercaseExampleHost, OnlyTheFirstLineIsAnsweredThenTheConnectionCloses) {
    TempDir dir;
    HostProcess host(dir, host_section() + "[[server]]\nname = \"upper\"\nlisten = \"tcp://127.0.0.1:0\"\n"
                                           "plugin = \"" + kPlugin + "\"\n");
    Socket s = connect_tcp(host.port("upper"));
    s.send_all("hello\nworld\n");
    EXPECT_EQ(s.read_all(10s), "HELLO\n");
    EXPECT_TRUE(host.wait_for_log("wrote 6 bytes")) << host.log();
    EXPECT_EQ(host.stop(), 0) << host.log();
}

TEST(UppercaseExampleHost, CheckAcceptsItAndUnknownOptionsAreRejected) {
    TempDir dir;
    const std::string server = "[[server]]\nname = \"upper\"\nlisten = \"udp://127.0.0.1:0\"\n"
                               "plugin = \"" + kPlugin + "\"\n";
    auto ok_cfg = dir.write("ok.toml", host_section() + server);
    auto ok = run_sockhost({"--config", ok_cfg.string(), "--check"});
    EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
    EXPECT_NE(ok.out.find("config OK"), std::string::npos) << ok.out;
    EXPECT_NE(ok.out.find("plugin uppercase"), std::string::npos) << ok.out;

    auto bad_cfg = dir.write("bad.toml", host_section() + server + "  [server.options]\n  shout = true\n");
    auto bad = run_sockhost({"--config", bad_cfg.string(), "--check"});
    EXPECT_NE(bad.exit_code, 0);
    EXPECT_NE(bad.err.find("bad.toml:"), std::string::npos) << bad.err;
    EXPECT_NE(bad.err.find("shout"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace sockhost::testing
