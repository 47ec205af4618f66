// SPDX-License-Identifier: MIT
#include "host/systemd/activation.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <optional>

#include <sockhost/sdk/socket_address.hpp>

namespace sockhost::host::systemd {

namespace {

constexpr int kFirstFd = 3;   // SD_LISTEN_FDS_START

std::optional<long> env_number(const char* name) {
    const char* text = std::getenv(name);
    if (text == nullptr || *text == '\0') return std::nullopt;
    char* end = nullptr;
    const long v = std::strtol(text, &end, 10);
    if (*end != '\0' || v < 0) return std::nullopt;
    return v;
}

/// Whether `fd` is bound where `server` listens, with its socket type.
bool fits(int fd, const ServerConfig& server) {
    int type = 0;
    socklen_t tlen = sizeof type;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 || type != server.listen.socket_type()) return false;
    sdk::SocketAddress bound;
    socklen_t blen = sdk::SocketAddress::capacity();
    if (::getsockname(fd, bound.data(), &blen) < 0) return false;
    bound.set_size(blen);
    if (bound.family() != server.listen.family()) return false;
    if (server.listen.is_unix()) return bound.host() == server.listen.path;
    sockaddr_storage want{};
    server.listen.to_sockaddr(want);
    const sdk::SocketAddress wanted(reinterpret_cast<const sockaddr*>(&want),
                                    bound.family() == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
    return bound.host() == wanted.host() && (server.listen.port == 0 || bound.port() == server.listen.port);
}

}  // namespace

std::vector<PassedSocket> take_passed_sockets() {
    std::vector<PassedSocket> out;
    const std::optional<long> pid = env_number("LISTEN_PID");
    const std::optional<long> count = env_number("LISTEN_FDS");
    std::string names = std::getenv("LISTEN_FDNAMES") ? std::getenv("LISTEN_FDNAMES") : "";
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_FDNAMES");
    if (!pid || !count || *pid != ::getpid()) return out;
    for (long i = 0; i < *count; ++i) {
        PassedSocket s;
        s.fd = kFirstFd + static_cast<int>(i);
        const std::size_t colon = names.find(':');
        s.name = names.substr(0, colon);
        names = colon == std::string::npos ? std::string() : names.substr(colon + 1);
        ::fcntl(s.fd, F_SETFD, FD_CLOEXEC);
        out.push_back(std::move(s));
    }
    return out;
}

std::vector<std::size_t> match_passed_sockets(const std::vector<PassedSocket>& passed, const Config& config) {
    std::vector<std::size_t> match;
    std::vector<bool> taken(config.servers.size(), false);
    for (const PassedSocket& p : passed) {
        std::optional<std::size_t> found;
        for (std::size_t i = 0; i < config.servers.size() && !found; ++i)
            if (!taken[i] && !p.name.empty() && config.servers[i].name == p.name) found = i;
        for (std::size_t i = 0; i < config.servers.size() && !found; ++i)
            if (!taken[i] && fits(p.fd, config.servers[i])) found = i;
        if (found && !fits(p.fd, config.servers[*found])) {
            const ServerConfig& s = config.servers[*found];
            throw ConfigError(s.listen_pos, "the socket passed as descriptor " + std::to_string(p.fd) + " (name '" +
                                                p.name + "') is not bound to " + s.listen.str());
        }
        if (!found) {
            sdk::SocketAddress bound;
            socklen_t blen = sdk::SocketAddress::capacity();
            std::string where = "an unknown address";
            if (::getsockname(p.fd, bound.data(), &blen) == 0) {
                bound.set_size(blen);
                where = bound.to_string();
            }
            throw ConfigError(SourcePos{config.file.string(), 1, 1},
                              "the socket passed as descriptor " + std::to_string(p.fd) +
                                  (p.name.empty() ? std::string() : " (name '" + p.name + "')") + ", bound to " +
                                  where + ", matches no [[server]]");
        }
        taken[*found] = true;
        match.push_back(*found);
    }
    return match;
}

}  // namespace sockhost::host::systemd
