// SPDX-License-Identifier: MIT
#include "host/log.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>

#include <sockhost/sdk/log_text.hpp>
#include <sockhost/sdk/utc_time.hpp>

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
    std::string_view rest = line;
    while (!rest.empty()) {
        ssize_t n = ::write(STDERR_FILENO, rest.data(), rest.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
}

}  // namespace sockhost::host
