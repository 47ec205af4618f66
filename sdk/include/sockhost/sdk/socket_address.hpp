// SPDX-License-Identifier: MIT
// A socket address (IPv4, IPv6 or Unix) as the kernel gave it: client_address.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "sockhost/sdk/abi.hpp"

namespace sockhost::sdk {

/// Python's client_address: a (host, port) pair for IP, a path for Unix
/// sockets. Never resolved through DNS.
class SOCKHOST_SDK_API SocketAddress {
public:
    SocketAddress();
    SocketAddress(const sockaddr* sa, socklen_t len);

    const sockaddr* data() const { return reinterpret_cast<const sockaddr*>(&storage_); }
    sockaddr* data() { return reinterpret_cast<sockaddr*>(&storage_); }
    socklen_t size() const { return len_; }
    void set_size(socklen_t len) { len_ = len; }
    static constexpr socklen_t capacity() { return sizeof(sockaddr_storage); }

    int family() const { return len_ ? storage_.ss_family : AF_UNSPEC; }
    bool is_ip() const { return family() == AF_INET || family() == AF_INET6; }
    /// Numeric host ("127.0.0.1", "::1"); for Unix sockets the path ("" when unnamed).
    std::string host() const;
    /// Port for IP, 0 otherwise.
    std::uint16_t port() const;
    /// "127.0.0.1:8000", "[::1]:8000", "/tmp/echo.sock", "(unnamed)".
    std::string to_string() const;
    /// Same with scheme, as servers.toml writes it: "tcp://127.0.0.1:8000".
    std::string to_url(bool stream) const;

private:
    sockaddr_storage storage_;
    socklen_t len_;
};

}  // namespace sockhost::sdk
