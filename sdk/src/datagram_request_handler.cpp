// SPDX-License-Identifier: MIT
// DatagramRequestHandler: the datagram in rfile, the reply from wfile.
#include "sockhost/sdk/datagram_request_handler.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstddef>
#include <system_error>


namespace sockhost::sdk {

DatagramRequestHandler::DatagramRequestHandler() = default;
DatagramRequestHandler::~DatagramRequestHandler() = default;

void DatagramRequestHandler::setup() {
    in_ = std::make_unique<MemoryStream>(std::string(request().datagram));
    out_ = std::make_unique<MemoryStream>(std::string());
    rfile_ = std::make_unique<Reader>(*in_);
    wfile_ = std::make_unique<Writer>(*out_, 0);
}

const std::string& DatagramRequestHandler::reply() const {
    return static_cast<const MemoryStream&>(*out_).output();
}

void DatagramRequestHandler::finish() {
    if (!wfile_) return;
    wfile_->flush();
    const SocketAddress& to = peer_address();   // the socket's peer, whatever a proxy said
    // An unbound Unix datagram client has no address to answer to.
    if (to.family() == AF_UNIX && to.size() <= offsetof(sockaddr_un, sun_path)) return;
    if (request().fd < 0) return;   // test kit: the reply stays in reply()
    const std::string& data = reply();
    ssize_t n;
    do {
        n = ::sendto(request().fd, data.data(), data.size(), MSG_NOSIGNAL, to.data(), to.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0) throw std::system_error(errno, std::generic_category(), "sendto " + to.to_string());
}

}  // namespace sockhost::sdk
