// SPDX-License-Identifier: MIT
#include "host/log.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>

#include <sockhost/sdk/log_text.hpp>

namespace sockhost::host {

namespace {
std::atomic<int> g_level{static_cast<int>(sdk::LogLevel::info)};

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
    auto now = std::chrono::system_clock::now();
    std::time_t t = std::chrono::system_clock::to_time_t(now);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char stamp[64];
    std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    std::string line;
    line.reserve(64 + message.size());
    line += stamp;
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
    std::string_view rest = line;
    while (!rest.empty()) {
        ssize_t n = ::write(STDERR_FILENO, rest.data(), rest.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
}

}  // namespace sockhost::host
