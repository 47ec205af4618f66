// SPDX-License-Identifier: MIT
// The test kit: in-memory streams and a recording ServerContext.
#include "sockhost/sdk/testkit.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "sockhost/sdk/datagram_request_handler.hpp"

namespace sockhost::sdk::testkit {

FakeServer::FakeServer(Options options, std::string name)
    : name_(std::move(name)), options_(std::move(options)) {}
FakeServer::~FakeServer() = default;

void FakeServer::log(LogLevel, std::string_view message) const {
    std::lock_guard lock(mutex_);
    lines_.emplace_back(message);
}

void FakeServer::log_access(std::string_view line) const {
    std::lock_guard lock(mutex_);
    lines_.push_back("access: " + std::string(line));
}

std::vector<std::string> FakeServer::lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
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

void MemoryStream::write_all(std::string_view data) { output_.append(data); }

namespace {
SocketAddress test_client() {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(40000);
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return SocketAddress(reinterpret_cast<const sockaddr*>(&in), sizeof in);
}
}  // namespace

Result run_stream(StreamRequestHandler& handler, std::string input, FakeServer& server,
                  std::size_t chunk) {
    auto stream = std::make_unique<MemoryStream>(std::move(input), chunk);
    MemoryStream* raw = stream.get();
    handler.use_stream(std::move(stream));
    handler.bind(Request{}, test_client(), server);
    Result result;
    try {
        run_handler(handler);
    } catch (...) {
        result.error = std::current_exception();
    }
    result.output = raw->output();
    result.log = server.lines();
    return result;
}

Result run_datagram(BaseRequestHandler& handler, std::string datagram, FakeServer& server) {
    Request request;
    request.datagram = datagram;
    handler.bind(request, test_client(), server);
    Result result;
    try {
        run_handler(handler);
    } catch (...) {
        result.error = std::current_exception();
    }
    if (auto* d = dynamic_cast<DatagramRequestHandler*>(&handler)) result.output = d->reply();
    result.log = server.lines();
    return result;
}

}  // namespace sockhost::sdk::testkit
