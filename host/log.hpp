// SPDX-License-Identifier: MIT
// The host log: one line per event on stderr, control characters escaped.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include <sockhost/sdk/log_text.hpp>
#include <sockhost/sdk/server_context.hpp>

namespace sockhost::host {

/// Process-wide logger. Thread-safe; each line is written with one write(2)
/// so lines from threads and forked children never interleave.
class Log {
public:
    static void set_level(sdk::LogLevel level);
    static sdk::LogLevel level();
    static bool enabled(sdk::LogLevel level);
    /// "2026-11-22T09:12:52.123Z info [server] message", `source` and
    /// `message` escaped (sdk::escape_log_text), so no log line can carry a
    /// terminal escape or a fake second line.
    static void write(sdk::LogLevel level, std::string_view source, std::string_view message);
    /// The same for a message whose client-supplied parts are escaped
    /// already (an access line), written as it is.
    static void write_escaped(sdk::LogLevel level, std::string_view source, std::string_view message);

    // --- Files ([host] error_log, access_log) ---------------------------------
    /// Sends the error log to `error_log` (it becomes stderr, so a plugin's
    /// own stderr lands there too) and access lines to `access_log`; an
    /// empty path keeps stderr. Files are opened for appending (created
    /// 0640). Returns "" or what failed ("access_log PATH: REASON").
    static std::string open_files(const std::filesystem::path& error_log, const std::filesystem::path& access_log);
    /// Opens the same paths again (SIGUSR1, after logrotate moved them):
    /// each takes the old descriptor's number, so no writer sees a gap.
    /// Returns "" or what failed (the old file is kept then).
    static std::string reopen_files();

    // --- Access lines ---------------------------------------------------------
    static void set_access_format(sdk::AccessLogFormat format);
    static sdk::AccessLogFormat access_format();
    /// Access lines are written: always to an access_log file; on stderr
    /// at log level info.
    static bool access_enabled();
    /// One access line (escaped already): alone on its line in the
    /// access_log file, else an info line on stderr.
    static void write_access(std::string_view source, std::string_view line);
};

inline void log_info(std::string_view source, std::string_view m) { Log::write(sdk::LogLevel::info, source, m); }
inline void log_warning(std::string_view source, std::string_view m) { Log::write(sdk::LogLevel::warning, source, m); }
inline void log_error(std::string_view source, std::string_view m) { Log::write(sdk::LogLevel::error, source, m); }
inline void log_debug(std::string_view source, std::string_view m) { Log::write(sdk::LogLevel::debug, source, m); }

}  // namespace sockhost::host
