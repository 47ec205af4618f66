// SPDX-License-Identifier: MIT
// [host] workers = N: pre-forked worker processes under a supervisor that
// serves nothing itself, replaces crashed workers and drains them at SIGTERM.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <future>
#include <set>
#include <string>
#include <thread>

#include "support/host_process.hpp"

namespace sockhost::testing {
namespace {

const std::string kProbe = std::string(SOCKHOST_TEST_PLUGIN_DIR) + "/libprobe.so";

std::string workers_config(const TempDir& dir, int workers, std::string_view concurrency = "threading") {
    return "[host]\nplugins_dir = \"" + std::string(SOCKHOST_PLUGIN_DIR) + "\"\nworkers = " +
           std::to_string(workers) + "\nshutdown_timeout = 5\n" +
           "[[server]]\nname = \"p\"\nlisten = \"tcp://127.0.0.1:0\"\nplugin = \"" + kProbe +
           "\"\nconcurrency = \"" + std::string(concurrency) + "\"\n" +
           "[[server]]\nname = \"u\"\nlisten = \"unix://" + (dir / "w.sock").string() +
           "\"\nplugin = \"echo\"\n";
}

std::string ask(const std::string& url, const std::string& line) {
    Socket s = connect_stream(url);
    s.send_all(line);
    s.shutdown_write();
    return s.read_all(10s);
}

/// The live children of the supervisor, polled until there are `n`.
std::set<pid_t> wait_for_workers(pid_t supervisor, int n, std::chrono::milliseconds timeout = 5s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        std::set<pid_t> pids;
        for (const auto& e : std::filesystem::directory_iterator("/proc")) {
            std::string name = e.path().filename().string();
            if (name.find_first_not_of("0123456789") != std::string::npos) continue;
            std::ifstream in(e.path() / "stat");
            std::string line;
            if (!std::getline(in, line)) continue;
            auto close = line.rfind(')');
            std::istringstream rest(line.substr(close + 2));
            char state;
            pid_t ppid;
            rest >> state >> ppid;
            if (ppid == supervisor && state != 'Z') pids.insert(std::stoi(name));
        }
        if (static_cast<int>(pids.size()) == n || std::chrono::steady_clock::now() > deadline) return pids;
        std::this_thread::sleep_for(20ms);
    }
}

class Workers : public ::testing::TestWithParam<std::string> {};

TEST_P(Workers, EveryWorkerServesAndTheSupervisorServesNothing) {
    TempDir dir;
    HostProcess host(dir, workers_config(dir, 2, GetParam()));
    std::string url = host.url("p");
    auto workers = wait_for_workers(host.pid(), 2);
    ASSERT_EQ(workers.size(), 2u) << host.log();
    for (int i = 0; i < 20; ++i) {
        std::string pid = ask(url, "pid\n");
        ASSERT_FALSE(pid.empty());
        pid_t served_by = std::stoi(pid);
        EXPECT_NE(served_by, host.pid()) << "the supervisor served a request";
        if (GetParam() != "forking") {
            EXPECT_TRUE(workers.count(served_by)) << served_by;
        }
    }
    EXPECT_EQ(ask(host.url("u"), "unix too"), "unix too");
    EXPECT_EQ(host.stop(), 0) << host.log();
    EXPECT_FALSE(std::filesystem::exists(dir / "w.sock"));
}

INSTANTIATE_TEST_SUITE_P(Models, Workers, ::testing::Values("sync", "threading", "forking", "event"));

TEST(WorkersSupervisor, AKilledWorkerIsLoggedAndReplaced) {
    TempDir dir;
    HostProcess host(dir, workers_config(dir, 2));
    std::string url = host.url("p");
    auto before = wait_for_workers(host.pid(), 2);
    ASSERT_EQ(before.size(), 2u);
    pid_t victim = *before.begin();
    ::kill(victim, SIGKILL);
    EXPECT_TRUE(host.wait_for_log("(pid " + std::to_string(victim) + ") was killed by signal 9")) << host.log();
    auto after = wait_for_workers(host.pid(), 2);
    EXPECT_EQ(after.size(), 2u);
    EXPECT_FALSE(after.count(victim));
    for (int i = 0; i < 10; ++i) EXPECT_EQ(ask(url, "x\n"), "x\n");
    EXPECT_TRUE(std::filesystem::exists(dir / "w.sock")) << "a dying worker removed the shared socket file";
    EXPECT_EQ(ask(host.url("u"), "ok"), "ok");
    EXPECT_EQ(zombies_after(host.pid()), 0);
}

TEST(WorkersSupervisor, SigtermDrainsInFlightRequestsAndLeavesNoProcess) {
    TempDir dir;
    HostProcess host(dir, workers_config(dir, 2));
    std::string url = host.url("p");
    auto workers = wait_for_workers(host.pid(), 2);
    std::vector<Socket> slow;
    for (int i = 0; i < 4; ++i) {
        slow.push_back(connect_stream(url));
        slow.back().send_all("sleep 800\n");
    }
    std::this_thread::sleep_for(200ms);
    auto stopped = std::async(std::launch::async, [&] { return host.stop(SIGTERM, 20s); });
    for (auto& s : slow) {
        EXPECT_EQ(s.read_until("\n", 10s), "slept 800\n");
        s.close();
    }
    auto code = stopped.get();
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 0) << host.log();
    for (pid_t w : workers) EXPECT_NE(::kill(w, 0), 0) << "worker " << w << " survived";
}

}  // namespace
}  // namespace sockhost::testing
