// SPDX-License-Identifier: MIT
// SpooledBody: see cgi_body.hpp.
#include "cgi_body.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <system_error>
#include <utility>
#include <vector>

namespace sockhost::plugins::cgi {

using sdk::posix::UniqueFd;

namespace {

[[noreturn]] void throw_errno(const std::string& what) {
    throw std::system_error(errno, std::generic_category(), what);
}

void write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno("write to the request body's temporary file");
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

}  // namespace

UniqueFd open_unlinked_temp_file(const std::filesystem::path& dir) {
    // O_EXCL: the file can never be given a name later (linkat).
    int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) return UniqueFd(fd);
    // EOPNOTSUPP: the filesystem has no O_TMPFILE; EISDIR: the kernel does
    // not know the flag. Anything else (ENOENT, EACCES, ENOSPC) is final.
    if (errno != EOPNOTSUPP && errno != EISDIR) throw_errno("open(O_TMPFILE) in " + dir.string());
    std::string name = (dir / "sockhost-body-XXXXXX").string();
    std::vector<char> path(name.begin(), name.end());
    path.push_back('\0');
    fd = ::mkostemp(path.data(), O_CLOEXEC);
    if (fd < 0) throw_errno("mkostemp in " + dir.string());
    UniqueFd file(fd);
    if (::unlink(path.data()) != 0) throw_errno("unlink " + std::string(path.data()));
    return file;
}

std::filesystem::path default_temp_dir() {
    const char* tmpdir = std::getenv("TMPDIR");
    if (tmpdir && tmpdir[0] == '/') return tmpdir;
    return "/tmp";
}

SpooledBody::SpooledBody(std::size_t memory_limit, std::filesystem::path temp_dir)
    : memory_limit_(memory_limit), temp_dir_(std::move(temp_dir)) {}

void SpooledBody::append(std::string_view data) {
    if (data.empty()) return;
    if (!in_file() && memory_.size() + data.size() > memory_limit_) spill();
    if (in_file())
        write_all(file_.get(), data);
    else
        memory_.append(data);
    size_ += data.size();
}

void SpooledBody::spill() {
    file_ = open_unlinked_temp_file(temp_dir_);
    write_all(file_.get(), memory_);
    memory_.clear();
    memory_.shrink_to_fit();
}

std::size_t SpooledBody::read_at(std::uint64_t offset, char* buffer, std::size_t n) const {
    if (offset >= size_) return 0;
    n = static_cast<std::size_t>(std::min<std::uint64_t>(n, size_ - offset));
    if (!in_file()) {
        memory_.copy(buffer, n, static_cast<std::size_t>(offset));
        return n;
    }
    for (;;) {
        const ssize_t got = ::pread(file_.get(), buffer, n, static_cast<off_t>(offset));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) throw_errno("read the request body's temporary file");
        if (got == 0) throw std::system_error(std::make_error_code(std::errc::io_error),
                                              "the request body's temporary file shrank");
        return static_cast<std::size_t>(got);
    }
}

}  // namespace sockhost::plugins::cgi
