// SPDX-License-Identifier: MIT
// SocketAddress: numeric formatting only, never DNS.
#include "sockhost/sdk/socket_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstring>

namespace sockhost::sdk {

SocketAddress::SocketAddress() : storage_{}, len_(0) {}

SocketAddress::SocketAddress(const sockaddr* sa, socklen_t len) : storage_{}, len_(0) {
    if (sa != nullptr && len > 0) {
        len_ = len > sizeof(storage_) ? sizeof(storage_) : len;
        std::memcpy(&storage_, sa, len_);
    }
}

std::string SocketAddress::host() const {
    char buf[INET6_ADDRSTRLEN] = {};
    switch (family()) {
        case AF_INET:
            inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf,
                      sizeof buf);
            return buf;
        case AF_INET6:
            inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, buf,
                      sizeof buf);
            return buf;
        case AF_UNIX: {
            const auto* un = reinterpret_cast<const sockaddr_un*>(&storage_);
            std::size_t max = len_ > offsetof(sockaddr_un, sun_path)
                                  ? len_ - offsetof(sockaddr_un, sun_path)
                                  : 0;
            if (max == 0) return {};
            if (un->sun_path[0] == '\0') return "@" + std::string(un->sun_path + 1, max - 1);
            return std::string(un->sun_path, strnlen(un->sun_path, max));
        }
        default:
            return {};
    }
}

std::uint16_t SocketAddress::port() const {
    switch (family()) {
        case AF_INET:
            return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
        case AF_INET6:
            return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
        default:
            return 0;
    }
}

std::string SocketAddress::to_string() const {
    switch (family()) {
        case AF_INET:
            return host() + ":" + std::to_string(port());
        case AF_INET6:
            return "[" + host() + "]:" + std::to_string(port());
        case AF_UNIX: {
            std::string h = host();
            return h.empty() ? "(unnamed)" : h;
        }
        default:
            return "(unknown)";
    }
}

std::string SocketAddress::to_url(bool stream) const {
    if (family() == AF_UNIX) return (stream ? "unix://" : "unixgram://") + host();
    return (stream ? "tcp://" : "udp://") + to_string();
}

}  // namespace sockhost::sdk
