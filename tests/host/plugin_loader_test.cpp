// SPDX-License-Identifier: MIT
// The plugin loader against real .so files, including ones built to fail.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include <sockhost/sdk/abi.hpp>

#include "host/plugin_loader.hpp"
#include "support/host_process.hpp"

namespace sockhost::host {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

const fs::path kPlugins = SOCKHOST_PLUGIN_DIR;
const fs::path kTestPlugins = SOCKHOST_TEST_PLUGIN_DIR;

std::string load_error(PluginRegistry& registry, std::string_view name) {
    try {
        registry.load(name);
    } catch (const PluginError& e) {
        return e.what();
    }
    return "(loaded)";
}

TEST(PluginLoader, LoadsByNameAsLibNameDotSo) {
    PluginRegistry registry(kPlugins);
    auto echo = registry.load("echo");
    EXPECT_EQ(echo->info.name, "echo");
    EXPECT_EQ(echo->file, kPlugins / "libecho.so");
    EXPECT_TRUE(sdk::serves(echo->info.transports, sdk::Transport::datagram));
    EXPECT_EQ(registry.load("echo"), echo) << "the same file loads once";
}

TEST(PluginLoader, LoadsByPathAndAsNameDotSo) {
    TempDir dir;
    fs::copy_file(kPlugins / "libecho.so", dir / "echo.so");
    PluginRegistry registry(dir.path());
    EXPECT_EQ(registry.load("echo")->file, dir / "echo.so");
    PluginRegistry by_path("/nonexistent");
    EXPECT_EQ(by_path.load((kTestPlugins / "libprobe.so").string())->info.name, "probe");
}

TEST(PluginLoader, MissingFileNamesBothCandidates) {
    PluginRegistry registry(kPlugins);
    std::string e = load_error(registry, "nosuch");
    EXPECT_NE(e.find("plugin 'nosuch' not found: no file " + (kPlugins / "libnosuch.so").string() +
                     " or " + (kPlugins / "nosuch.so").string()),
              std::string::npos)
        << e;
}

TEST(PluginLoader, FileThatIsNotASharedObjectIsRefusedWithTheLoaderReason) {
    TempDir dir;
    dir.write("libgarbage.so", std::string(4096, 'G'));
    dir.write("libtiny.so", "x");
    PluginRegistry registry(dir.path());
    std::string e = load_error(registry, "garbage");
    EXPECT_NE(e.find((dir / "libgarbage.so").string() + ") is not a loadable shared object: "), std::string::npos) << e;
    EXPECT_NE(e.find("invalid ELF header"), std::string::npos) << e;
    EXPECT_NE(load_error(registry, "tiny").find("file too short"), std::string::npos);
}

TEST(PluginLoader, SharedObjectWithoutDescriptorIsNotAPlugin) {
    PluginRegistry registry(kTestPlugins);
    std::string e = load_error(registry, "nodescriptor");
    EXPECT_NE(e.find("is not a sockhost plugin (no 'sockhost_plugin_descriptor' symbol)"), std::string::npos) << e;
}

TEST(PluginLoader, OtherAbiMajorIsRefusedBeforeAnyPluginCodeRuns) {
    // badabi's info() calls abort(): reaching it would kill this test.
    PluginRegistry registry(kTestPlugins);
    std::string e = load_error(registry, "badabi");
    EXPECT_NE(e.find("was built for SDK ABI 999.0, host has " + std::to_string(sdk::kAbiMajor) + "." +
                     std::to_string(sdk::kAbiMinor)),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("libbadabi.so"), std::string::npos) << e;
}

TEST(PluginLoader, APluginBuiltForAbi1IsRefusedWithOneLine) {
    PluginRegistry registry(kTestPlugins);
    std::string e = load_error(registry, "oldabi");
    EXPECT_NE(e.find("was built for SDK ABI 1.2, host has 2." + std::to_string(sdk::kAbiMinor) +
                     " (rebuild the plugin against this SDK)"),
              std::string::npos)
        << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << "one line";
}

TEST(PluginLoader, OtherCxxAbiFingerprintIsRefusedShowingBoth) {
    PluginRegistry registry(kTestPlugins);
    std::string e = load_error(registry, "badfingerprint");
    EXPECT_NE(e.find("was built with another C++ ABI: plugin [clang 99.0.0; libc++ 99"), std::string::npos) << e;
    EXPECT_NE(e.find("host [" + sdk::describe(sdk::sdk_fingerprint()) + "]"), std::string::npos) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << "one line";
}

TEST(PluginLoader, SecondPluginWithANameAlreadyLoadedIsRefused) {
    PluginRegistry registry(kTestPlugins);
    registry.load((kPlugins / "libecho.so").string());
    std::string e = load_error(registry, "dupname");
    EXPECT_NE(e.find("declares the name 'echo', already loaded from " + (kPlugins / "libecho.so").string()),
              std::string::npos)
        << e;
}

TEST(PluginLoader, HandlersOutliveTheRegistryThatLoadedThem) {
    std::unique_ptr<sdk::BaseRequestHandler> handler;
    {
        PluginRegistry registry(kPlugins);
        auto echo = registry.load("echo");
        handler = echo->info.make_factory({})(sdk::Transport::stream);
    }
    // RTLD_NODELETE keeps the code mapped: destroying it must not crash.
    ASSERT_NE(handler, nullptr);
    handler.reset();
}

}  // namespace
}  // namespace sockhost::host
