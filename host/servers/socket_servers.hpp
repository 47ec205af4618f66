// SPDX-License-Identifier: MIT
// The four server classes: TCPServer, UDPServer, UnixStreamServer,
// UnixDatagramServer (socketserver's names and relations).
#pragma once

#include <sys/types.h>

#include "host/servers/base_server.hpp"

namespace sockhost::host {

/// TCPServer: a listening stream socket over AF_INET/AF_INET6 (and, through
/// UnixStreamServer, AF_UNIX). Backlog = request_queue_size.
class TCPServer : public BaseServer {
public:
    using BaseServer::BaseServer;

protected:
    /// socket(), SO_REUSEADDR / SO_REUSEPORT / IPV6_V6ONLY as configured, bind(),
    /// then reads back the bound address (the real port for port 0).
    void server_bind() override;
    void server_activate() override;
    bool get_request(PendingRequest& request) override;
    /// Creates the socket and applies the options shared by every class.
    void open_socket();
};

/// UDPServer: TCPServer's socket handling on SOCK_DGRAM; one request per datagram.
class UDPServer : public TCPServer {
public:
    using TCPServer::TCPServer;
    void shutdown_request(PendingRequest&) override {}
    void close_request(PendingRequest&) override {}

protected:
    void server_activate() override {}
    bool get_request(PendingRequest& request) override;
};

/// UnixStreamServer: TCPServer over AF_UNIX. A stale socket file left by a
/// dead host is replaced; a live one (something accepts on it) is an error;
/// a path that is not a socket is never deleted. Removed at close.
class UnixStreamServer : public TCPServer {
public:
    using TCPServer::TCPServer;

protected:
    void server_bind() override;
    void close_socket() override;

private:
    ino_t inode_ = 0;
};

/// UnixDatagramServer: UDPServer over AF_UNIX, same file rules.
class UnixDatagramServer : public UDPServer {
public:
    using UDPServer::UDPServer;

protected:
    void server_bind() override;
    void close_socket() override;

private:
    ino_t inode_ = 0;
};

}  // namespace sockhost::host
