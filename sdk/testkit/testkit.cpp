// SPDX-License-Identifier: MIT
// The test kit: in-memory streams and a recording ServerContext.
#include "sockhost/sdk/testkit.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "sockhost/sdk/datagram_request_handler.hpp"
#include "sockhost/sdk/log_text.hpp"

namespace sockhost::sdk::testkit {

FakeServer::FakeServer(Options options, std::string name)
    : name_(std::move(name)), options_(std::move(options)) {}
FakeServer::~FakeServer() = default;

void FakeServer::log(LogLevel, std::string_view message) const {
    std::string line = escape_log_text(message);   // as the host writes it
    std::lock_guard lock(mutex_);
    lines_.push_back(std::move(line));
}

void FakeServer::log_access(const AccessRecord& record) const {
    std::string line = "access: " + format_access_line(record, AccessLogFormat::clf, name_);
    std::lock_guard lock(mutex_);
    lines_.push_back(std::move(line));
}

std::vector<std::string> FakeServer::lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
}

namespace {

/// A request from the test client, 127.0.0.1:40000.
Request test_request() {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(40000);
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    Request request;
    request.client = request.peer = SocketAddress(reinterpret_cast<const sockaddr*>(&in), sizeof in);
    return request;
}

/// Runs `handler` on `request` as the host does; the caller adds the output.
Result run_request(BaseRequestHandler& handler, const Request& request, FakeServer& server) {
    handler.bind(request, server);
    Result result;
    try {
        run_handler(handler);
    } catch (...) {
        result.error = std::current_exception();
    }
    result.log = server.lines();
    return result;
}

}  // namespace

Result run_stream(BaseRequestHandler& handler, ByteStream& stream, FakeServer& server) {
    Request request = test_request();
    request.stream = &stream;
    Result result = run_request(handler, request, server);
    if (auto* memory = dynamic_cast<MemoryStream*>(&stream)) result.output = memory->output();
    return result;
}

Result run_stream(BaseRequestHandler& handler, std::string input, FakeServer& server, std::size_t chunk) {
    MemoryStream stream(std::move(input), chunk);
    return run_stream(handler, stream, server);
}

Result run_datagram(BaseRequestHandler& handler, std::string datagram, FakeServer& server) {
    Request request = test_request();
    request.datagram = datagram;
    Result result = run_request(handler, request, server);
    if (auto* d = dynamic_cast<DatagramRequestHandler*>(&handler)) result.output = d->reply();
    return result;
}

}  // namespace sockhost::sdk::testkit
