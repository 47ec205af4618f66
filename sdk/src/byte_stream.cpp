// SPDX-License-Identifier: MIT
// ByteStream's defaults and MemoryStream.
#include "sockhost/sdk/byte_stream.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace sockhost::sdk {

ByteStream::~ByteStream() = default;

std::optional<std::size_t> ByteStream::read_nowait(char* buffer, std::size_t size) {
    return read_some(buffer, size);
}

void ByteStream::send_file(int in_fd, off_t offset, std::size_t count) {
    // No zero-copy path: pread into a buffer and write it.
    std::string buf(std::min<std::size_t>(count, 64 * 1024), '\0');
    while (count > 0) {
        ssize_t n = ::pread(in_fd, buf.data(), std::min(count, buf.size()), offset);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw std::system_error(errno, std::generic_category(), "pread");
        if (n == 0) throw std::system_error(std::make_error_code(std::errc::io_error),
                                            "file shrank while being sent");
        write(std::string_view(buf.data(), static_cast<std::size_t>(n)));
        offset += n;
        count -= static_cast<std::size_t>(n);
    }
}

MemoryStream::MemoryStream(std::string input, std::size_t chunk)
    : input_(std::move(input)), chunk_(chunk ? chunk : 1) {}
MemoryStream::~MemoryStream() = default;

std::size_t MemoryStream::read_some(char* buffer, std::size_t size) {
    std::size_t n = std::min({size, chunk_, input_.size() - pos_});
    std::memcpy(buffer, input_.data() + pos_, n);
    pos_ += n;
    return n;
}

void MemoryStream::write(std::string_view first, std::string_view second) {
    output_.append(first).append(second);
}

}  // namespace sockhost::sdk
