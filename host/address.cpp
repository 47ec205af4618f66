// SPDX-License-Identifier: MIT
// Listen addresses and CIDR ranges: numeric parsing only, never name resolution.
#include "host/address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstring>
#include <stdexcept>

namespace sockhost::host {
namespace {

constexpr std::size_t kMaxUnixPath = sizeof(sockaddr_un{}.sun_path) - 1;  // 107 on Linux

[[noreturn]] void fail(const std::string& message) { throw std::invalid_argument(message); }

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

bool all_digits(std::string_view text) {
    if (text.empty()) return false;
    for (char c : text)
        if (c < '0' || c > '9') return false;
    return true;
}

// The canonical text of a numeric address (inet_ntop), so "[0::1]" equals "[::1]".
std::string canonical(int family, const void* bytes) {
    char buf[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(family, bytes, buf, sizeof buf);
    return buf;
}

std::uint16_t parse_port(std::string_view port, std::string_view whole) {
    if (port.empty()) fail("missing port in " + quoted(whole) + " (expected SCHEME://HOST:PORT)");
    if (!all_digits(port)) fail("bad port " + quoted(port) + " in " + quoted(whole));
    // from_chars reports overflow of huge digit strings as an error: out of range too.
    unsigned long value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value > 65535)
        fail("port " + std::string(port) + " out of range (0..65535)");
    return static_cast<std::uint16_t>(value);
}

void parse_ip_endpoint(std::string_view rest, std::string_view whole, ListenAddress& out) {
    if (rest.empty()) fail("missing host and port in " + quoted(whole));
    std::string_view host;
    std::string_view port;
    if (rest.front() == '[') {
        auto close = rest.find(']');
        if (close == std::string_view::npos) fail("missing ']' after IPv6 address in " + quoted(whole));
        host = rest.substr(1, close - 1);
        auto after = rest.substr(close + 1);
        if (after.empty()) fail("missing port in " + quoted(whole) + " (expected SCHEME://[HOST]:PORT)");
        if (after.front() != ':') fail("unexpected " + quoted(after) + " after ']' in " + quoted(whole));
        port = after.substr(1);
        if (host.empty()) fail("missing host in " + quoted(whole));
        in6_addr a6{};
        if (::inet_pton(AF_INET6, std::string(host).c_str(), &a6) != 1)
            fail("bad IPv6 address " + quoted(host) + " in " + quoted(whole));
        out.port = parse_port(port, whole);
        out.host = canonical(AF_INET6, &a6);
        return;
    }
    auto colon = rest.rfind(':');
    if (colon == std::string_view::npos)
        fail("missing port in " + quoted(whole) + " (expected SCHEME://HOST:PORT)");
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (host.empty()) fail("missing host in " + quoted(whole) + " (use 0.0.0.0 or [::] for all interfaces)");
    if (host.find(':') != std::string_view::npos)
        fail("IPv6 address must be in brackets in " + quoted(whole) + " (e.g. tcp://[::1]:8000)");
    in_addr a4{};
    if (::inet_pton(AF_INET, std::string(host).c_str(), &a4) != 1)
        fail("host must be a numeric IP address, got " + quoted(host) + " (sockhost never resolves names)");
    out.port = parse_port(port, whole);
    out.host = canonical(AF_INET, &a4);
}

void parse_unix_path(std::string_view rest, std::string_view whole, ListenAddress& out) {
    if (rest.empty()) fail("missing Unix socket path in " + quoted(whole));
    if (rest.find('\0') != std::string_view::npos) fail("Unix socket path contains a NUL byte");
    if (rest.size() > kMaxUnixPath)
        fail("Unix socket path too long (max " + std::to_string(kMaxUnixPath) + " bytes, got " +
             std::to_string(rest.size()) + ")");
    out.path = std::string(rest);
}

// Sets the host bits beyond `prefix` to zero.
void mask(std::array<std::uint8_t, 16>& bytes, int total_bits, int prefix) {
    for (int bit = prefix; bit < total_bits; ++bit)
        bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
}

bool prefix_matches(const std::uint8_t* net, const std::uint8_t* addr, int prefix) {
    int whole = prefix / 8;
    if (std::memcmp(net, addr, whole) != 0) return false;
    int rest = prefix % 8;
    if (rest == 0) return true;
    auto m = static_cast<std::uint8_t>(0xffu << (8 - rest));
    return (net[whole] & m) == (addr[whole] & m);
}

constexpr std::uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

int ListenAddress::family() const {
    if (is_unix()) return AF_UNIX;
    return host.find(':') != std::string::npos ? AF_INET6 : AF_INET;
}

std::string ListenAddress::str() const {
    switch (scheme) {
        case Scheme::unix_stream:
            return "unix://" + path;
        case Scheme::unix_datagram:
            return "unixgram://" + path;
        case Scheme::tcp:
        case Scheme::udp:
            break;
    }
    std::string out = scheme == Scheme::tcp ? "tcp://" : "udp://";
    if (family() == AF_INET6)
        out += "[" + host + "]";
    else
        out += host;
    return out + ":" + std::to_string(port);
}

socklen_t ListenAddress::to_sockaddr(sockaddr_storage& out) const {
    std::memset(&out, 0, sizeof out);
    switch (family()) {
        case AF_UNIX: {
            auto* un = reinterpret_cast<sockaddr_un*>(&out);
            un->sun_family = AF_UNIX;
            // Length was checked at parse time; truncate defensively for hand-built values.
            std::size_t n = std::min(path.size(), kMaxUnixPath);
            std::memcpy(un->sun_path, path.data(), n);
            return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + n + 1);
        }
        case AF_INET6: {
            auto* in6 = reinterpret_cast<sockaddr_in6*>(&out);
            in6->sin6_family = AF_INET6;
            in6->sin6_port = htons(port);
            if (::inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) != 1)
                throw std::invalid_argument("bad IPv6 address '" + host + "'");
            return sizeof(sockaddr_in6);
        }
        default: {
            auto* in4 = reinterpret_cast<sockaddr_in*>(&out);
            in4->sin_family = AF_INET;
            in4->sin_port = htons(port);
            if (::inet_pton(AF_INET, host.c_str(), &in4->sin_addr) != 1)
                throw std::invalid_argument("bad IPv4 address '" + host + "'");
            return sizeof(sockaddr_in);
        }
    }
}

ListenAddress parse_listen_address(std::string_view text) {
    auto sep = text.find("://");
    if (sep == std::string_view::npos)
        fail("missing scheme in " + quoted(text) + " (expected tcp://, udp://, unix:// or unixgram://)");
    auto scheme = text.substr(0, sep);
    auto rest = text.substr(sep + 3);
    ListenAddress out;
    if (scheme == "tcp" || scheme == "udp") {
        out.scheme = scheme == "tcp" ? Scheme::tcp : Scheme::udp;
        parse_ip_endpoint(rest, text, out);
    } else if (scheme == "unix" || scheme == "unixgram") {
        out.scheme = scheme == "unix" ? Scheme::unix_stream : Scheme::unix_datagram;
        parse_unix_path(rest, text, out);
    } else {
        fail("unknown scheme " + quoted(scheme) + " (expected tcp, udp, unix or unixgram)");
    }
    return out;
}

bool Cidr::contains(const sockaddr* address) const {
    if (address == nullptr) return false;
    std::uint8_t client[16] = {};
    int client_family = address->sa_family;
    if (client_family == AF_INET) {
        const auto* in4 = reinterpret_cast<const sockaddr_in*>(address);
        std::memcpy(client, &in4->sin_addr, 4);
    } else if (client_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
        std::memcpy(client, &in6->sin6_addr, 16);
        // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d; judge them as IPv4.
        if (std::memcmp(client, kMappedPrefix, 12) == 0) {
            std::memmove(client, client + 12, 4);
            client_family = AF_INET;
        }
    } else {
        return false;
    }
    if (family == client_family) return prefix_matches(bytes.data(), client, prefix);
    // An IPv6 range written in mapped form (::ffff:10.0.0.0/104) also covers IPv4 clients;
    // broader IPv6 ranges such as ::/0 do not.
    if (family == AF_INET6 && client_family == AF_INET && prefix >= 96 &&
        std::memcmp(bytes.data(), kMappedPrefix, 12) == 0)
        return prefix_matches(bytes.data() + 12, client, prefix - 96);
    return false;
}

std::string Cidr::str() const { return canonical(family, bytes.data()) + "/" + std::to_string(prefix); }

Cidr parse_cidr(std::string_view text) {
    auto bad = [&](const std::string& why) -> void {
        fail("bad CIDR range " + quoted(text) + " (" + why + ")");
    };
    auto slash = text.find('/');
    auto addr = std::string(text.substr(0, slash));
    Cidr out;
    if (addr.empty()) bad("missing address");
    if (::inet_pton(AF_INET, addr.c_str(), out.bytes.data()) == 1) {
        out.family = AF_INET;
    } else if (::inet_pton(AF_INET6, addr.c_str(), out.bytes.data()) == 1) {
        out.family = AF_INET6;
    } else {
        bad("not a numeric IPv4 or IPv6 address");
    }
    int max_prefix = out.family == AF_INET ? 32 : 128;
    out.prefix = max_prefix;
    if (slash != std::string_view::npos) {
        auto digits = text.substr(slash + 1);
        if (!all_digits(digits) || digits.size() > 3) bad("prefix must be 0.." + std::to_string(max_prefix));
        int value = 0;
        std::from_chars(digits.data(), digits.data() + digits.size(), value);
        if (value > max_prefix) bad("prefix must be 0.." + std::to_string(max_prefix));
        out.prefix = value;
    }
    // Accept host bits ("10.1.2.3/8") but store the network, so str() and contains() agree.
    mask(out.bytes, max_prefix, out.prefix);
    return out;
}

}  // namespace sockhost::host
