// SPDX-License-Identifier: MIT
// SpooledBody: a request body read whole before its script starts, because
// the script must be told its length (RFC 3875 4.1.2: CONTENT_LENGTH) and a
// chunked body has none until its last chunk. Held in memory up to a
// threshold, beyond it in an unlinked temporary file, as nginx does with
// client_body_buffer_size and client_body_temp_path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include <sockhost/sdk/posix/unique_fd.hpp>

namespace sockhost::plugins::cgi {

/// The bytes of one request body, appended once, then read back by offset.
/// Used by one handler on one thread.
class SpooledBody {
public:
    /// Up to `memory_limit` bytes stay in memory; the body moves to a
    /// temporary file in `temp_dir` when it would grow past that.
    SpooledBody(std::size_t memory_limit, std::filesystem::path temp_dir);

    /// Adds bytes at the end. Throws std::system_error when the temporary
    /// file cannot be made or written (a full disk, a missing directory).
    void append(std::string_view data);
    std::uint64_t size() const { return size_; }
    /// True once the body went to a file.
    bool in_file() const { return file_.get() >= 0; }
    /// The temporary file's descriptor, -1 while in memory.
    int file_fd() const { return file_.get(); }
    /// Copies up to `n` bytes from `offset` into `buffer`; 0 at the end.
    /// Throws std::system_error when the file cannot be read.
    std::size_t read_at(std::uint64_t offset, char* buffer, std::size_t n) const;

private:
    void spill();

    std::size_t memory_limit_;
    std::filesystem::path temp_dir_;
    std::string memory_;
    sdk::posix::UniqueFd file_;
    std::uint64_t size_ = 0;
};

/// A file in `dir` no other process can open: O_TMPFILE (never has a
/// name), or where the filesystem cannot do that, mkostemp and unlink at
/// once. Mode 0600, close-on-exec. Throws std::system_error.
sdk::posix::UniqueFd open_unlinked_temp_file(const std::filesystem::path& dir);

/// The default body_temp_dir: $TMPDIR when it is set to an absolute path,
/// else /tmp.
std::filesystem::path default_temp_dir();

}  // namespace sockhost::plugins::cgi
