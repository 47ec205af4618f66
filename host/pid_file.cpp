// SPDX-License-Identifier: MIT
#include "host/pid_file.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

namespace sockhost::host {

namespace {
/// The pid in `path`, or 0 when it holds none.
pid_t read_pid(const std::filesystem::path& path) {
    std::ifstream in(path);
    long pid = 0;
    if (!(in >> pid) || pid <= 0) return 0;
    return static_cast<pid_t>(pid);
}
}  // namespace

void write_pid_file(const std::filesystem::path& path) {
    const std::filesystem::path tmp = path.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << ::getpid() << "\n";
        if (!out.flush()) throw std::system_error(errno, std::generic_category(), "write " + tmp.string());
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::filesystem::remove(tmp, ec);
        throw std::system_error(ec, "rename " + tmp.string() + " to " + path.string());
    }
}

void remove_pid_file(const std::filesystem::path& path) {
    if (!path.empty() && read_pid(path) == ::getpid()) {
        std::error_code ec;
        std::filesystem::remove(path, ec);
    }
}

std::string signal_running_host(const std::filesystem::path& path, int signal) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return "no running host: " + path.string() + " does not exist";
    const pid_t pid = read_pid(path);
    if (pid == 0) return path.string() + " holds no process id";
    if (::kill(pid, signal) != 0) {
        if (errno == ESRCH) return "no running host: process " + std::to_string(pid) + " (from " + path.string() + ") is gone";
        return "cannot signal process " + std::to_string(pid) + ": " + std::strerror(errno);
    }
    return {};
}

}  // namespace sockhost::host
