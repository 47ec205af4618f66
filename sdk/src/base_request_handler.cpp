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

Resume BaseRequestHandler::handle_ready() {
    handle();
    return Resume::close;
}

BaseRequestHandler::Clock::time_point BaseRequestHandler::idle_deadline() const {
    return Clock::time_point::max();
}

void BaseRequestHandler::handle_idle_timeout() {}
bool BaseRequestHandler::between_requests() const { return true; }
void BaseRequestHandler::release_idle_memory() {}

void BaseRequestHandler::bind(const Request& request, ServerContext& server) {
    request_ = request;
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
