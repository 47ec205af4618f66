// SPDX-License-Identifier: MIT
// BaseRequestHandler and the setup/handle/finish driver.
#include "sockhost/sdk/base_request_handler.hpp"

#include <exception>

namespace sockhost::sdk {

ServerContext::~ServerContext() = default;

BaseRequestHandler::BaseRequestHandler() = default;
BaseRequestHandler::~BaseRequestHandler() = default;
void BaseRequestHandler::setup() {}
void BaseRequestHandler::handle() {}
void BaseRequestHandler::finish() {}

void BaseRequestHandler::bind(const Request& request, const SocketAddress& client_address,
                              ServerContext& server) {
    request_ = request;
    client_address_ = client_address;
    server_ = &server;
}

void BaseRequestHandler::log(LogLevel level, std::string_view message) const {
    server_->log(level, message);
}

void run_handler(BaseRequestHandler& handler) {
    std::exception_ptr first;
    try {
        handler.setup();
        handler.handle();
    } catch (...) {
        first = std::current_exception();
    }
    // finish() always runs, also after setup() threw (a departure from Python).
    try {
        handler.finish();
    } catch (...) {
        if (!first) first = std::current_exception();
    }
    if (first) std::rethrow_exception(first);
}

}  // namespace sockhost::sdk
