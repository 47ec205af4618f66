// SPDX-License-Identifier: MIT
// The host's behaviour around requests: errors stay with their request,
// shutdown is graceful, children are reaped, Unix socket files are handled
// safely, resource exhaustion does not spin. Real binary, real sockets.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include "support/host_process.hpp"

namespace sockhost::testing {
namespace {

const std::string kProbe = std::string(SOCKHOST_TEST_PLUGIN_DIR) + "/libprobe.so";

std::string probe_server(std::string_view name, std::string_view concurrency,
                         std::string_view listen = "tcp://127.0.0.1:0", std::string_view extra = "") {
    return "[[server]]\nname = \"" + std::string(name) + "\"\nlisten = \"" + std::string(listen) +
           "\"\nplugin = \"" + kProbe + "\"\nconcurrency = \"" + std::string(concurrency) + "\"\n" +
           std::string(extra);
}

std::string ask(const std::string& url, const std::string& line) {
    Socket s = connect_stream(url);
    s.send_all(line);
    s.shutdown_write();
    return s.read_all(10s);
}

class EveryModel : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryModel, HandlerThatThrowsIsLoggedAndTheNextClientIsServed) {
    TempDir dir;
    HostProcess host(dir, host_section() + probe_server("thrower", GetParam()));
    std::string url = host.url("thrower");
    EXPECT_EQ(ask(url, "throw\n"), "");
    EXPECT_TRUE(host.wait_for_log("probe asked to throw")) << host.log();
    std::string log = host.log();
    EXPECT_NE(log.find("[thrower] error handling request from 127.0.0.1:"), std::string::npos) << log;
    EXPECT_EQ(ask(url, "still here\n"), "still here\n");
    EXPECT_EQ(host.stop(), 0);
}

TEST_P(EveryModel, SigtermDuringAnInFlightRequestLetsItFinishAndExitsZero) {
    TempDir dir;
    HostProcess host(dir, host_section() + probe_server("slow", GetParam()));
    Socket s = connect_stream(host.url("slow"));
    s.send_all("sleep 1500\n");
    std::this_thread::sleep_for(300ms);   // the request is now being served
    auto stopped = std::async(std::launch::async, [&] { return host.stop(SIGTERM, 20s); });
    EXPECT_EQ(s.read_until("\n", 10s), "slept 1500\n");
    s.close();   // the client is done; the host may now finish
    auto code = stopped.get();
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 0) << host.log();
}

TEST_P(EveryModel, ClientDisconnectingMidMessageDoesNotDisturbOthers) {
    TempDir dir;
    HostProcess host(dir, host_section() + probe_server("p", GetParam()));
    std::string url = host.url("p");
    for (int i = 0; i < 5; ++i) {
        Socket rude = connect_stream(url);
        rude.send_all("half a mess");   // no newline, then an abortive close (RST)
        linger lg{1, 0};
        ::setsockopt(rude.fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        rude.close();
    }
    EXPECT_EQ(ask(url, "polite\n"), "polite\n");
    EXPECT_TRUE(host.running());
    EXPECT_EQ(host.stop(), 0) << host.log();
}

TEST_P(EveryModel, IdleKeepAliveConnectionDoesNotHoldUpShutdown) {
    TempDir dir;
    HostProcess host(dir, host_section() + "shutdown_timeout = 30\n[[server]]\nname = \"h\"\nlisten = \"tcp://127.0.0.1:0\"\nplugin = \"" +
                              std::string(SOCKHOST_TEST_PLUGIN_DIR) + "/libhttp_hello.so\"\nconcurrency = \"" +
                              GetParam() + "\"\n");
    Socket s = connect_stream(host.url("h"));
    s.send_all("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_NE(s.read_until("hello /a").find("hello /a"), std::string::npos);
    // The connection now idles in keep-alive (15 s by default; grace is 30 s):
    // stopping well before either proves the idle connection was let go.
    auto start = std::chrono::steady_clock::now();
    auto code = host.stop(SIGTERM, 12s);
    ASSERT_TRUE(code.has_value()) << "shutdown waited for an idle connection";
    EXPECT_EQ(*code, 0);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
    EXPECT_TRUE(s.peer_closed(2s));
}

INSTANTIATE_TEST_SUITE_P(Models, EveryModel, ::testing::Values("sync", "threading", "forking", "event"));

TEST(SyncModel, SecondClientIsServedAfterTheFirstFinishes) {
    TempDir dir;
    HostProcess host(dir, host_section() + probe_server("one", "sync"));
    std::string url = host.url("one");
    Socket first = connect_stream(url);
    first.send_all("a\n");
    EXPECT_EQ(first.read_until("\n"), "a\n");
    Socket second = connect_stream(url);   // queued in the backlog
    second.send_all("b\n");
    EXPECT_EQ(second.read_some(400ms), "") << "sync served two clients at once";
    first.shutdown_write();
    EXPECT_EQ(first.read_all(), "");
    EXPECT_EQ(second.read_until("\n"), "b\n");
}

TEST(ForkingModel, NoZombieSurvives200ShortConnections) {
    TempDir dir;
    HostProcess host(dir, host_section() + "[[server]]\nname = \"f\"\nlisten = \"tcp://127.0.0.1:0\"\n"
                                           "plugin = \"echo\"\nconcurrency = \"forking\"\n");
    std::string url = host.url("f");
    for (int i = 0; i < 200; ++i) ASSERT_EQ(ask(url, "x"), "x") << "connection " << i;
    // Children exit right after their reply; the pidfd wakes the loop to reap.
    EXPECT_EQ(zombies_after(host.serving_pid()), 0);
    EXPECT_EQ(host.stop(), 0);
}

TEST(ForkingModel, CrashOfAPluginInAChildIsLoggedAndTheHostServesOn) {
#if defined(__SANITIZE_ADDRESS__)
    // ASan turns SIGSEGV into a report and exit(1); let the signal through.
    ScopedEnv no_segv_handler("ASAN_OPTIONS", "handle_segv=0:detect_leaks=0");
#endif
    TempDir dir;
    HostProcess host(dir, host_section() + probe_server("crashy", "forking"));
    std::string url = host.url("crashy");
    EXPECT_EQ(ask(url, "crash\n"), "");
    EXPECT_TRUE(host.wait_for_log("killed by signal 11")) << host.log();
    EXPECT_EQ(ask(url, "alive\n"), "alive\n");
    EXPECT_EQ(zombies_after(host.serving_pid()), 0);
}

TEST(ForkingModel, EachRequestRunsInItsOwnProcess) {
    TempDir dir;
    HostProcess host(dir, host_section() + probe_server("pids", "forking"));
    std::string url = host.url("pids");
    std::string a = ask(url, "pid\n"), b = ask(url, "pid\n");
    EXPECT_NE(a, b);
    EXPECT_NE(a, std::to_string(host.serving_pid()) + "\n");
}

TEST(UnixSocketFiles, StaleSocketIsReplacedAndRemovedAtCleanExit) {
    TempDir dir;
    auto path = dir / "stale.sock";
    {
        // A socket file nobody listens on: what a killed host leaves behind.
        int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un un{};
        un.sun_family = AF_UNIX;
        path.string().copy(un.sun_path, sizeof un.sun_path - 1);
        ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&un), sizeof un), 0);
        ::close(fd);
    }
    ASSERT_TRUE(std::filesystem::exists(path));
    HostProcess host(dir, host_section() + "[[server]]\nname = \"u\"\nlisten = \"unix://" + path.string() +
                              "\"\nplugin = \"echo\"\n");
    EXPECT_EQ(ask(host.url("u"), "hi"), "hi");
    EXPECT_EQ(host.stop(), 0);
    EXPECT_FALSE(std::filesystem::exists(path)) << "socket file left behind";
}

TEST(UnixSocketFiles, LiveSocketOfAnotherHostIsAnError) {
    TempDir dir;
    auto path = (dir / "live.sock").string();
    std::string cfg = host_section() + "[[server]]\nname = \"u\"\nlisten = \"unix://" + path +
                      "\"\nplugin = \"echo\"\n";
    HostProcess first(dir, cfg);
    first.url("u");
    TempDir dir2;
    HostProcess second(dir2, cfg);
    auto code = second.wait_exit(10s);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 1);
    EXPECT_NE(second.log().find("in use by a running server"), std::string::npos) << second.log();
    EXPECT_EQ(ask(first.url("u"), "still mine"), "still mine");
}

TEST(UnixSocketFiles, RegularFileAtThePathIsNeverDeleted) {
    TempDir dir;
    auto path = dir.write("precious.txt", "keep me");
    HostProcess host(dir, host_section() + "[[server]]\nname = \"u\"\nlisten = \"unix://" + path.string() +
                              "\"\nplugin = \"echo\"\n");
    auto code = host.wait_exit(10s);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 1);
    EXPECT_NE(host.log().find("is not a socket; not removing it"), std::string::npos) << host.log();
    std::ifstream in(path);
    std::string content;
    std::getline(in, content);
    EXPECT_EQ(content, "keep me");
}

TEST(AccessControl, DeniedClientIsClosedWithoutService) {
    TempDir dir;
    HostProcess host(dir, host_section() + "[[server]]\nname = \"acl\"\nlisten = \"tcp://127.0.0.1:0\"\n"
                                           "plugin = \"echo\"\ndeny = [\"127.0.0.0/8\"]\n");
    EXPECT_EQ(ask(host.url("acl"), "let me in"), "");
    EXPECT_TRUE(host.wait_for_log("denied 127.0.0.1:")) << host.log();
}

TEST(AccessControl, AllowListAdmitsMatchingClients) {
    TempDir dir;
    HostProcess host(dir, host_section() + "[[server]]\nname = \"acl\"\nlisten = \"tcp://127.0.0.1:0\"\n"
                                           "plugin = \"echo\"\nallow = [\"10.0.0.0/8\", \"127.0.0.1/32\"]\n");
    EXPECT_EQ(ask(host.url("acl"), "welcome"), "welcome");
}

TEST(ResourceExhaustion, EmfileOnAcceptDoesNotSpinAndServiceResumes) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    GTEST_SKIP() << "sanitizer runtimes need free descriptors themselves (UBSan's vptr check, "
                    "TSan's reports); the plain build runs this test";
#endif
    TempDir dir;
    // 32 descriptors: the host's own few, then a handful of connections.
    HostProcess host(dir, host_section() + probe_server("tight", "threading"), {}, 32);
    std::string url = host.url("tight");
    std::vector<Socket> hogs;
    for (int i = 0; i < 40; ++i) {
        Socket s = connect_stream(url);   // the kernel completes them in the backlog
        s.send_all("hold\n");
        hogs.push_back(std::move(s));
    }
    ASSERT_TRUE(host.wait_for_log("pausing accept")) << host.log();
    auto before = host.cpu_time();
    std::this_thread::sleep_for(1s);
    auto used = host.cpu_time() - before;
    EXPECT_LT(used.count(), 300) << "the accept loop spins on EMFILE";
    hogs.clear();   // free the descriptors
    EXPECT_EQ(ask(url, "back\n"), "back\n");
    EXPECT_EQ(host.stop(), 0) << host.log();
}

TEST(Signals, SigpipeFromAVanishedPeerNeverKillsTheHost) {
    TempDir dir;
    HostProcess host(dir, host_section() + "[[server]]\nname = \"e\"\nlisten = \"tcp://127.0.0.1:0\"\n"
                                           "plugin = \"echo\"\n");
    std::string url = host.url("e");
    for (int i = 0; i < 20; ++i) {
        Socket s = connect_stream(url);
        s.send_all(std::string(64 * 1024, 'x'));   // echo writes back to a closed socket
    }
    EXPECT_EQ(ask(url, "ok"), "ok");
    EXPECT_TRUE(host.running());
}

}  // namespace
}  // namespace sockhost::testing
