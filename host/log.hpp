// SPDX-License-Identifier: MIT
// The host log: one line per event on stderr, control characters escaped.
#pragma once

#include <string>
#include <string_view>

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
};

inline void log_info(std::string_view source, std::string_view m) { Log::write(sdk::LogLevel::info, source, m); }
inline void log_warning(std::string_view source, std::string_view m) { Log::write(sdk::LogLevel::warning, source, m); }
inline void log_error(std::string_view source, std::string_view m) { Log::write(sdk::LogLevel::error, source, m); }
inline void log_debug(std::string_view source, std::string_view m) { Log::write(sdk::LogLevel::debug, source, m); }

}  // namespace sockhost::host
