// SPDX-License-Identifier: MIT
#include "host/log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>

#include <sockhost/sdk/log_text.hpp>
#include <sockhost/sdk/utc_time.hpp>

namespace sockhost::host {

namespace {
std::atomic<int> g_level{static_cast<int>(sdk::LogLevel::info)};
std::atomic<int> g_access_format{static_cast<int>(sdk::AccessLogFormat::clf)};
std::atomic<int> g_access_fd{-1};   // -1: access lines go to stderr at info

// The files' paths, for reopen_files(); set and read by the thread that
// configures the host (start, reload, the signal loop).
std::mutex g_files_mutex;
std::filesystem::path g_error_path;
std::filesystem::path g_access_path;

/// Writes all of `text` to `fd` with as few write(2)s as it takes: one
/// unless a pipe is full (EINTR retried). False on an error.
bool write_all(int fd, std::string_view text) {
    while (!text.empty()) {
        const ssize_t n = ::write(fd, text.data(), text.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        text.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

int open_log_file(const std::filesystem::path& path, std::string& error, const char* what) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) error = std::string(what) + " " + path.string() + ": " + std::strerror(errno);
    return fd;
}

/// Points `target` (a descriptor number in use) at `path`'s file.
std::string reopen_onto(int target, const std::filesystem::path& path, const char* what) {
    std::string error;
    const int fd = open_log_file(path, error, what);
    if (fd < 0) return error;
    if (fd != target) {
        // dup2 keeps FD_CLOEXEC off for the target; stderr must stay
        // inheritable (a CGI script's stderr), the access log must not.
        ::dup2(fd, target);
        ::close(fd);
        if (target != STDERR_FILENO) ::fcntl(target, F_SETFD, FD_CLOEXEC);
    }
    return "";
}

constexpr std::string_view level_name(sdk::LogLevel l) {
    switch (l) {
        case sdk::LogLevel::trace: return "trace";
        case sdk::LogLevel::debug: return "debug";
        case sdk::LogLevel::info: return "info";
        case sdk::LogLevel::warning: return "warning";
        case sdk::LogLevel::error: return "error";
    }
    return "?";
}
}  // namespace

void Log::set_level(sdk::LogLevel level) { g_level.store(static_cast<int>(level)); }
sdk::LogLevel Log::level() { return static_cast<sdk::LogLevel>(g_level.load()); }
bool Log::enabled(sdk::LogLevel level) { return static_cast<int>(level) >= g_level.load(); }

void Log::write(sdk::LogLevel level, std::string_view source, std::string_view message) {
    if (!enabled(level)) return;
    write_escaped(level, source, sdk::escape_log_text(message));
}

void Log::write_escaped(sdk::LogLevel level, std::string_view source, std::string_view message) {
    if (!enabled(level)) return;
    std::string line;
    line.reserve(64 + message.size());
    line += sdk::utc_timestamp_now();   // no gmtime_r: its lock may be held at a fork
    line += ' ';
    line += level_name(level);
    line += ' ';
    if (!source.empty()) {
        line += '[';
        sdk::append_log_text(line, source);
        line += "] ";
    }
    line += message;
    line += '\n';
    // One write per line; a short write (pipe full) is finished, EINTR retried.
    write_all(STDERR_FILENO, line);
}

std::string Log::open_files(const std::filesystem::path& error_log, const std::filesystem::path& access_log) {
    std::lock_guard lock(g_files_mutex);
    std::string error;
    if (!error_log.empty() && error_log != g_error_path) {
        error = reopen_onto(STDERR_FILENO, error_log, "error_log");
        if (!error.empty()) return error;
    }
    g_error_path = error_log;   // unset: stderr stays where it points now
    if (access_log.empty()) {
        const int old = g_access_fd.exchange(-1);
        if (old >= 0) ::close(old);
    } else if (access_log != g_access_path || g_access_fd.load() < 0) {
        const int fd = open_log_file(access_log, error, "access_log");
        if (fd < 0) return error;
        const int old = g_access_fd.load();
        if (old >= 0) {
            ::dup2(fd, old);   // same number: a writer never sees it closed
            ::close(fd);
            ::fcntl(old, F_SETFD, FD_CLOEXEC);
        } else {
            g_access_fd.store(fd);
        }
    }
    g_access_path = access_log;
    return "";
}

std::string Log::reopen_files() {
    std::lock_guard lock(g_files_mutex);
    std::string error;
    if (!g_error_path.empty()) error = reopen_onto(STDERR_FILENO, g_error_path, "error_log");
    const int access = g_access_fd.load();
    if (access >= 0 && !g_access_path.empty()) {
        std::string e = reopen_onto(access, g_access_path, "access_log");
        if (!e.empty()) error += (error.empty() ? "" : "; ") + e;
    }
    return error;
}

void Log::set_access_format(sdk::AccessLogFormat format) { g_access_format.store(static_cast<int>(format)); }
sdk::AccessLogFormat Log::access_format() { return static_cast<sdk::AccessLogFormat>(g_access_format.load()); }

bool Log::access_enabled() { return g_access_fd.load(std::memory_order_relaxed) >= 0 || enabled(sdk::LogLevel::info); }

void Log::write_access(std::string_view source, std::string_view line) {
    const int fd = g_access_fd.load(std::memory_order_relaxed);
    if (fd < 0) {
        write_escaped(sdk::LogLevel::info, source, line);
        return;
    }
    std::string out;
    out.reserve(line.size() + 1);
    out.append(line).push_back('\n');
    write_all(fd, out);
}

}  // namespace sockhost::host
