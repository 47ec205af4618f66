// SPDX-License-Identifier: MIT
// [host] pid_file: how `sockhost --reload` and `--stop` find the running
// host (as nginx -s reload does).
#pragma once

#include <filesystem>
#include <string>

namespace sockhost::host {

/// Writes this process's pid to `path` (a temporary file renamed over it, so
/// no reader sees half a number). Throws std::system_error.
void write_pid_file(const std::filesystem::path& path);

/// Removes `path` when it still holds this process's pid (a newer host may
/// have written its own).
void remove_pid_file(const std::filesystem::path& path);

/// Sends `signal` to the host whose pid `path` holds. On failure returns
/// the reason ("no running host: /run/sockhost.pid does not exist", ...).
std::string signal_running_host(const std::filesystem::path& path, int signal);

}  // namespace sockhost::host
