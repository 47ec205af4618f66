// SPDX-License-Identifier: MIT
// ForkingMixIn: a child process per request, at most max_children at once.
// Children are reaped by pid (waitpid(pid, WNOHANG)), never waitpid(-1), so
// the host never steals the exit status of a process it did not start (a CGI
// script run by a threaded server, say). Each child has a pidfd the server
// loop waits on, so a finished child is reaped at once, not at the next
// connection.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <system_error>

#include <sockhost/sdk/posix/pidfd.hpp>
#include <sockhost/sdk/posix/unique_fd.hpp>

#include "host/concurrency/concurrency.hpp"

namespace sockhost::host {

namespace {

using Clock = std::chrono::steady_clock;

/// The server a forked child serves, for its SIGTERM handler.
RequestSink* g_child_server = nullptr;

/// In a child, SIGTERM means "the host is stopping": finish the current
/// request (keep-alive loops end), then exit. SIGKILL follows at the deadline.
extern "C" void on_child_sigterm(int) {
    if (g_child_server != nullptr) g_child_server->mark_stopping();
}

/// Undoes what the host set up for itself before the child runs a request:
/// signals blocked for the host's signal thread and their dispositions.
void reset_signals_in_child(RequestSink& server) {
    g_child_server = &server;
    struct sigaction sa {};
    sa.sa_handler = on_child_sigterm;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGTERM, &sa, nullptr);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGHUP, SIG_DFL);
    sigset_t all;
    sigemptyset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, nullptr);
}

class ForkingMixIn final : public ConcurrencyModel {
public:
    explicit ForkingMixIn(const ServerConfig& config)
        : max_children_(static_cast<std::size_t>(config.max_children)),
          block_on_close_(config.block_on_close) {}

    std::string_view name() const override { return "forking"; }

    void process_request(RequestSink& server, PendingRequest& request) override {
        collect_children(server, /*blocking=*/true);
        pid_t pid = ::fork();
        if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
        if (pid == 0) {
            // Child: serve, then _exit on every path; it must never return to
            // the accept loop.
            reset_signals_in_child(server);
            int status = 0;
            try {
                server.finish_request(request);
            } catch (...) {
                server.handle_error(request, std::current_exception());
                status = 1;
            }
            try {
                server.shutdown_request(request);
            } catch (...) {
            }
            ::_exit(status);
        }
        Child child;
        child.pidfd.reset(sdk::posix::pidfd_open(pid));
        child.client = request.client.to_string();
        server.close_request(request);
        children_.emplace(pid, std::move(child));
    }

    void service_actions(RequestSink& server) override { collect_children(server, false); }

    void wait_fds(std::vector<int>& fds) const override {
        for (const auto& [pid, c] : children_)
            if (c.pidfd) fds.push_back(c.pidfd.get());
    }

    int poll_timeout_ms() const override {
        // Without pidfds (old kernels) fall back to polling while children live.
        for (const auto& [pid, c] : children_)
            if (!c.pidfd) return 100;
        return -1;
    }

    std::size_t server_close(RequestSink& server, Clock::time_point deadline) override {
        // Tell children the host is stopping: they finish their request.
        for (auto& [pid, c] : children_) ::kill(pid, SIGTERM);
        if (block_on_close_) {
            while (!children_.empty() && Clock::now() < deadline) {
                wait_any(deadline);
                collect_children(server, false);
            }
        }
        // Past the deadline (or not blocking): stop the rest; no child may
        // outlive the host as an orphan or a zombie.
        for (auto& [pid, c] : children_) ::kill(pid, SIGKILL);
        for (auto& [pid, c] : children_) {
            int status = 0;
            while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
        }
        std::size_t killed = children_.size();
        if (killed)
            server.log(sdk::LogLevel::warning,
                       "killed " + std::to_string(killed) + " request(s) still running at shutdown");
        children_.clear();
        return 0;
    }

private:
    struct Child {
        sdk::posix::UniqueFd pidfd;
        std::string client;
    };

    /// Python's collect_children: reap what has exited; when at
    /// max_children and `blocking`, wait until one exits.
    void collect_children(RequestSink& server, bool blocking) {
        reap(server);
        while (blocking && children_.size() >= max_children_) {
            wait_any(Clock::now() + std::chrono::seconds(1));
            reap(server);
        }
    }

    void reap(RequestSink& server) {
        for (auto it = children_.begin(); it != children_.end();) {
            int status = 0;
            pid_t r = ::waitpid(it->first, &status, WNOHANG);
            if (r == 0) {
                ++it;
                continue;
            }
            if (r == it->first) report(server, it->first, it->second, status);
            it = children_.erase(it);   // reaped, or gone (ECHILD)
        }
    }

    static void report(RequestSink& server, pid_t pid, const Child& c, int status) {
        if (WIFSIGNALED(status)) {
            server.log(sdk::LogLevel::error,
                       "child " + std::to_string(pid) + " serving " + c.client +
                           " was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
                           ::strsignal(WTERMSIG(status)) + ")");
        } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
            server.log(sdk::LogLevel::debug, "child " + std::to_string(pid) + " serving " +
                                                 c.client + " exited with status " +
                                                 std::to_string(WEXITSTATUS(status)));
        }
    }

    /// Sleeps until a child exits or `deadline`.
    void wait_any(Clock::time_point deadline) {
        std::vector<pollfd> fds;
        for (const auto& [pid, c] : children_)
            if (c.pidfd) fds.push_back({c.pidfd.get(), POLLIN, 0});
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        int timeout = static_cast<int>(std::max<long long>(0, std::min<long long>(left, 100)));
        if (fds.size() == children_.size() && !fds.empty())
            timeout = static_cast<int>(std::max<long long>(0, left));
        ::poll(fds.data(), fds.size(), timeout);
    }

    const std::size_t max_children_;
    const bool block_on_close_;
    std::map<pid_t, Child> children_;
};

}  // namespace

std::unique_ptr<ConcurrencyModel> make_forking_model(const ServerConfig& config) {
    return std::make_unique<ForkingMixIn>(config);
}

}  // namespace sockhost::host
