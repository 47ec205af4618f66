// SPDX-License-Identifier: MIT
// Listen addresses (tcp://, udp://, unix://, unixgram://) and CIDR ranges.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace sockhost::host {

/// The four server classes, by the scheme of their `listen` address.
enum class Scheme { tcp, udp, unix_stream, unix_datagram };

/// A parsed `listen` value. For tcp/udp `host` is a numeric IPv4 or IPv6
/// literal (brackets removed; "" is not allowed) and `port` 0..65535; for
/// unix/unixgram `path` is the socket path (absolute or relative as written).
struct ListenAddress {
    Scheme scheme = Scheme::tcp;
    std::string host;
    std::uint16_t port = 0;
    std::string path;

    bool is_stream() const { return scheme == Scheme::tcp || scheme == Scheme::unix_stream; }
    bool is_unix() const { return scheme == Scheme::unix_stream || scheme == Scheme::unix_datagram; }
    /// AF_INET, AF_INET6 or AF_UNIX.
    int family() const;
    /// SOCK_STREAM or SOCK_DGRAM.
    int socket_type() const { return is_stream() ? SOCK_STREAM : SOCK_DGRAM; }
    /// Canonical form: "tcp://127.0.0.1:8000", "tcp://[::1]:80", "unix:///tmp/x.sock".
    std::string str() const;
    /// Fills a sockaddr (sockaddr_in / _in6 / _un); returns its length.
    socklen_t to_sockaddr(sockaddr_storage& out) const;
    bool operator==(const ListenAddress&) const = default;
};

/// Parses a listen address. Throws std::invalid_argument with a message fit
/// for a config error ("unknown scheme 'http' (expected tcp, udp, unix or
/// unixgram)", "port 70000 out of range", "Unix socket path too long (max 107
/// bytes)", "host must be a numeric IP address, got 'localhost'", ...).
/// Host names are rejected: sockhost never resolves names.
ListenAddress parse_listen_address(std::string_view text);

/// An IPv4 or IPv6 network ("10.0.0.0/8", "::1/128", "127.0.0.1" = /32).
/// IPv4-mapped IPv6 clients (::ffff:a.b.c.d) match IPv4 ranges.
struct Cidr {
    int family = AF_INET;                 // AF_INET or AF_INET6
    std::array<std::uint8_t, 16> bytes{}; // network address, first 4 or 16 bytes used
    int prefix = 32;

    bool contains(const sockaddr* address) const;
    std::string str() const;
};

/// Throws std::invalid_argument ("bad CIDR range '10.0.0.0/33' (prefix must
/// be 0..32)"). Host bits beyond the prefix are accepted and cleared
/// ("10.1.2.3/8" is 10.0.0.0/8). contains(): an IPv4-mapped client matches IPv4
/// ranges, an IPv4 client matches IPv6 ranges only in mapped form
/// (::ffff:10.0.0.0/104), so ::/0 does not cover IPv4; AF_UNIX and null never match.
Cidr parse_cidr(std::string_view text);

}  // namespace sockhost::host
