// SPDX-License-Identifier: MIT
// systemd without systemd: the test passes listening sockets as a service
// manager does (LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES) and listens on the
// NOTIFY_SOCKET itself.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "support/host_process.hpp"
#include "support/http_client.hpp"

namespace sockhost::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const std::string kHello = std::string(SOCKHOST_TEST_PLUGIN_DIR) + "/libhttp_hello.so";

/// A listening TCP socket on 127.0.0.1 (an ephemeral port), as a .socket unit makes it.
int tcp_listener(std::uint16_t& port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&in), sizeof in), 0);
    socklen_t len = sizeof in;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&in), &len);
    port = ntohs(in.sin_port);
    EXPECT_EQ(::listen(fd, 64), 0);
    return fd;
}

int unix_listener(const fs::path& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    path.string().copy(un.sun_path, sizeof un.sun_path - 1);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&un), sizeof un), 0);
    EXPECT_EQ(::listen(fd, 64), 0);
    return fd;
}

std::string hello(std::uint16_t port, const std::string& target) {
    Client c(port);
    c.send("GET " + target + " HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    return c.next().body;
}

TEST(SocketActivation, PassedSocketsServeTheirBindingsByNameAndByAddress) {
    TempDir dir;
    std::uint16_t port = 0;
    const int web = tcp_listener(port);
    const fs::path path = dir / "echo.sock";
    const int echo = unix_listener(path);
    const std::string config = host_section() +
                               "[[server]]\nname = \"web\"\nlisten = \"tcp://127.0.0.1:0\"\nplugin = \"" + kHello +
                               "\"\nconcurrency = \"event\"\n"
                               "[[server]]\nname = \"u\"\nlisten = \"unix://" + path.string() +
                               "\"\nplugin = \"echo\"\n"
                               "[[server]]\nname = \"own\"\nlisten = \"tcp://127.0.0.1:0\"\nplugin = \"echo\"\n";
    Launch launch;
    launch.listen_fds = {{web, "web"}, {echo, "sockhost.socket"}};   // the second by its address
    HostProcess host(dir, config, launch);
    ::close(web);
    ::close(echo);
    EXPECT_EQ(host.port("web"), port);
    EXPECT_TRUE(host.wait_for_log("server web: serving the socket passed as descriptor 3 (socket activation)"))
        << host.log();
    EXPECT_TRUE(host.wait_for_log("server u: serving the socket passed as descriptor 4 (socket activation)"))
        << host.log();
    EXPECT_EQ(hello(port, "/a"), "hello /a");
    {
        Socket s = connect_stream("unix://" + path.string());
        s.send_all("ping\n");
        s.shutdown_write();
        EXPECT_EQ(s.read_all(10s), "ping\n");
    }
    // A binding with no passed socket is bound by the host.
    EXPECT_NE(host.port("own"), 0);
    // Handed over across a reload like any other socket.
    ::kill(host.pid(), SIGHUP);
    ASSERT_TRUE(host.wait_for_log("generation 2 serves")) << host.log();
    EXPECT_EQ(hello(port, "/b"), "hello /b");
    // Both generations' loops share the passed sockets: one that wakes for a
    // connection the other took must not wait in accept() (a manager passes
    // blocking sockets), or stopping would wait out the grace period.
    const auto stopping = Clock::now();
    EXPECT_EQ(host.stop(), 0);
    EXPECT_LT(Clock::now() - stopping, 5s) << host.log();
    EXPECT_TRUE(fs::exists(path)) << "a passed socket's file is the manager's: left in place";
}

TEST(SocketActivation, APassedSocketThatMatchesNoBindingIsAConfigError) {
    TempDir dir;
    std::uint16_t port = 0;
    const int stray = tcp_listener(port);
    Launch launch;
    launch.listen_fds = {{stray, "stray"}};
    HostProcess host(dir, host_section() + "[[server]]\nname = \"web\"\nlisten = \"unix://" + (dir / "x.sock").string() +
                              "\"\nplugin = \"echo\"\n",
                     launch);
    ::close(stray);
    EXPECT_EQ(host.wait_exit(20s), 1);
    EXPECT_NE(host.log().find(":1:1: the socket passed as descriptor 3 (name 'stray'), bound to 127.0.0.1:" +
                              std::to_string(port) + ", matches no [[server]]"),
              std::string::npos)
        << host.log();
}

/// The datagrams the host sends to NOTIFY_SOCKET.
class NotifySocket {
public:
    explicit NotifySocket(const fs::path& path) : path_(path) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un un{};
        un.sun_family = AF_UNIX;
        path.string().copy(un.sun_path, sizeof un.sun_path - 1);
        EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&un), sizeof un), 0);
    }
    ~NotifySocket() { ::close(fd_); }
    /// The next message, or "" after `timeout`.
    std::string next(std::chrono::milliseconds timeout = 10s) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return {};
        char buf[4096];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
    }

private:
    fs::path path_;
    int fd_ = -1;
};

TEST(SdNotify, ReadyReloadingAndStoppingReachTheNotifySocket) {
    TempDir dir;
    NotifySocket notify(dir / "notify.sock");
    Launch launch;
    launch.env = {{"NOTIFY_SOCKET", (dir / "notify.sock").string()}};
    HostProcess host(dir, host_section() + "[[server]]\nname = \"web\"\nlisten = \"tcp://127.0.0.1:0\"\nplugin = \"" +
                              kHello + "\"\n",
                     launch);
    EXPECT_EQ(notify.next(), "READY=1\nSTATUS=generation 1 serving");
    // READY=1 came once the binding accepts.
    EXPECT_EQ(hello(host.port("web"), "/r"), "hello /r");
    ::kill(host.pid(), SIGHUP);
    const std::string reloading = notify.next();
    EXPECT_EQ(reloading.rfind("RELOADING=1\nMONOTONIC_USEC=", 0), 0u) << reloading;
    EXPECT_EQ(notify.next(), "READY=1\nSTATUS=generation 2 serving");
    ::kill(host.pid(), SIGTERM);
    EXPECT_EQ(notify.next(), "STOPPING=1\nSTATUS=stopping");
    EXPECT_EQ(host.wait_exit(20s), 0);
}

}  // namespace
}  // namespace sockhost::testing
