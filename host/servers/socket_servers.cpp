// SPDX-License-Identifier: MIT
#include "host/servers/socket_servers.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <vector>

#include "host/concurrency/concurrency.hpp"

namespace sockhost::host {

namespace {
[[noreturn]] void fail(const std::string& what) {
    throw std::system_error(errno, std::generic_category(), what);
}

void set_flag(int fd, int level, int name, bool on, const char* what) {
    int v = on ? 1 : 0;
    if (::setsockopt(fd, level, name, &v, sizeof v) < 0) fail(what);
}

/// Before binding a Unix socket path: replace a stale socket, refuse a live
/// one, never touch anything that is not a socket.
void prepare_unix_path(const std::string& path, int type) {
    struct stat st{};
    if (::lstat(path.c_str(), &st) < 0) {
        if (errno == ENOENT) return;
        fail("stat " + path);
    }
    if (!S_ISSOCK(st.st_mode))
        throw std::system_error(std::make_error_code(std::errc::file_exists),
                                path + " exists and is not a socket; not removing it");
    sdk::posix::UniqueFd probe(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    path.copy(un.sun_path, sizeof un.sun_path - 1);
    if (::connect(probe.get(), reinterpret_cast<sockaddr*>(&un), sizeof un) == 0)
        throw std::system_error(std::make_error_code(std::errc::address_in_use),
                                path + " is in use by a running server");
    if (errno != ECONNREFUSED) fail("probe " + path);
    // Nobody listens: a socket file left behind by a dead process.
    if (::unlink(path.c_str()) < 0 && errno != ENOENT) fail("remove stale socket " + path);
}

ino_t inode_of(const std::string& path) {
    struct stat st{};
    return ::lstat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

/// Removes our socket file, only if it is still the one we bound.
void remove_unix_path(const std::string& path, ino_t inode) {
    if (inode != 0 && inode_of(path) == inode) ::unlink(path.c_str());
}

}  // namespace

// --- TCPServer -------------------------------------------------------------

void TCPServer::open_socket() {
    const ListenAddress& a = config_.listen;
    socket_.reset(::socket(a.family(), a.socket_type() | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!socket_) fail("socket");
    if (a.is_unix()) return;
    if (config_.allow_reuse_address)
        set_flag(socket_.get(), SOL_SOCKET, SO_REUSEADDR, true, "SO_REUSEADDR");
    if (config_.allow_reuse_port)
        set_flag(socket_.get(), SOL_SOCKET, SO_REUSEPORT, true, "SO_REUSEPORT");
    if (config_.ipv6_only && a.family() == AF_INET6)
        set_flag(socket_.get(), IPPROTO_IPV6, IPV6_V6ONLY, *config_.ipv6_only, "IPV6_V6ONLY");
}

void TCPServer::server_bind() {
    open_socket();
    sockaddr_storage ss{};
    socklen_t len = config_.listen.to_sockaddr(ss);
    if (::bind(socket_.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0)
        fail("bind");
    sdk::SocketAddress bound;
    socklen_t blen = sdk::SocketAddress::capacity();
    if (::getsockname(socket_.get(), bound.data(), &blen) < 0) fail("getsockname");
    bound.set_size(blen);
    server_address_ = bound;
}

void TCPServer::server_activate() {
    if (::listen(socket_.get(), config_.request_queue_size) < 0) fail("listen");
}

bool TCPServer::get_request(PendingRequest& request) {
    socklen_t len = sdk::SocketAddress::capacity();
    // Blocking connection (handlers use timeouts) unless the model waits
    // with poll() (accept_nonblocking); inherited by no exec'd child.
    int fd = ::accept4(socket_.get(), request.client.data(), &len,
                       SOCK_CLOEXEC | (accept_nonblocking_ ? SOCK_NONBLOCK : 0));
    if (fd < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED ||
            errno == EPROTO)
            return false;
        fail("accept");
    }
    request.client.set_size(len);
    request.connection.reset(fd);
    return true;
}

// --- UDPServer -------------------------------------------------------------

bool UDPServer::get_request(PendingRequest& request) {
    // One byte more than allowed tells us the datagram was truncated.
    // Received into the thread's scratch buffer, then copied at its size:
    // no allocating and zeroing max_packet_size bytes per datagram.
    thread_local std::vector<char> scratch;
    if (scratch.size() < config_.max_packet_size + 1) scratch.resize(config_.max_packet_size + 1);
    socklen_t len = sdk::SocketAddress::capacity();
    ssize_t n = ::recvfrom(socket_.get(), scratch.data(), config_.max_packet_size + 1, 0,
                           request.client.data(), &len);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return false;
        fail("recvfrom");
    }
    request.client.set_size(len);
    if (static_cast<std::size_t>(n) > config_.max_packet_size) {
        log(sdk::LogLevel::warning, "dropped a datagram from " + request.client.to_string() +
                                        " larger than max_packet_size (" +
                                        std::to_string(config_.max_packet_size) + ")");
        return false;
    }
    request.datagram.assign(scratch.data(), static_cast<std::size_t>(n));
    return true;
}

// --- Unix servers ----------------------------------------------------------

void UnixStreamServer::server_bind() {
    prepare_unix_path(config_.listen.path, SOCK_STREAM);
    TCPServer::server_bind();
    inode_ = inode_of(config_.listen.path);
}

void UnixStreamServer::close_socket() {
    TCPServer::close_socket();
    if (remove_socket_file_) remove_unix_path(config_.listen.path, inode_);
    inode_ = 0;
}

void UnixDatagramServer::server_bind() {
    prepare_unix_path(config_.listen.path, SOCK_DGRAM);
    UDPServer::server_bind();
    inode_ = inode_of(config_.listen.path);
}

void UnixDatagramServer::close_socket() {
    UDPServer::close_socket();
    if (remove_socket_file_) remove_unix_path(config_.listen.path, inode_);
    inode_ = 0;
}

// --- make_server -----------------------------------------------------------

std::unique_ptr<BaseServer> make_server(ServerConfig config, sdk::HandlerFactory factory, sdk::Protocol protocol) {
    auto model = make_model(config);
    auto make = [&]<class Server>() -> std::unique_ptr<BaseServer> {
        return std::make_unique<Server>(std::move(config), std::move(factory), protocol, std::move(model));
    };
    switch (config.listen.scheme) {
        case Scheme::tcp: return make.template operator()<TCPServer>();
        case Scheme::udp: return make.template operator()<UDPServer>();
        case Scheme::unix_stream: return make.template operator()<UnixStreamServer>();
        case Scheme::unix_datagram: return make.template operator()<UnixDatagramServer>();
    }
    throw std::logic_error("unknown scheme");
}

}  // namespace sockhost::host
