// SPDX-License-Identifier: MIT
// BaseHTTPRequestHandler: http.server.BaseHTTPRequestHandler over HTTP/1.1.
// Skeleton: every declared member is defined so the SDK links; the real
// request loop follows.
#include "sockhost/sdk/http/base_http_request_handler.hpp"

#include <ctime>

namespace sockhost::sdk::http {

void Headers::add(std::string name, std::string value) {
    fields_.emplace_back(std::move(name), std::move(value));
}

namespace {
bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}
}  // namespace

std::optional<std::string_view> Headers::get(std::string_view name) const {
    for (const auto& [n, v] : fields_)
        if (iequals(n, name)) return std::string_view(v);
    return std::nullopt;
}

std::string Headers::get_all(std::string_view name, std::string_view separator) const {
    std::string out;
    bool first = true;
    for (const auto& [n, v] : fields_) {
        if (!iequals(n, name)) continue;
        if (!first) out.append(separator);
        out.append(v);
        first = false;
    }
    return out;
}

bool Headers::contains(std::string_view name) const { return get(name).has_value(); }

Limits Limits::from_options(const Options&) { return Limits{}; }

const std::vector<std::string_view>& Limits::option_keys() {
    static const std::vector<std::string_view> keys = {
        "max_request_line", "max_header_count", "max_header_size",
        "max_body_size",    "header_timeout",   "body_timeout",
        "send_timeout",     "keepalive_timeout", "max_keepalive_requests"};
    return keys;
}

void validate_http_options(const Options& options, std::initializer_list<std::string_view>) {
    (void)Limits::from_options(options);
}

std::string_view reason_phrase(int code) {
    switch (code) {
        case 200: return "OK";
        case 404: return "Not Found";
        default: return "";
    }
}

struct BaseHTTPRequestHandler::State {};

BaseHTTPRequestHandler::BaseHTTPRequestHandler() : server_version("sockhost/0.1") {}
BaseHTTPRequestHandler::~BaseHTTPRequestHandler() { delete state_; }

void BaseHTTPRequestHandler::setup() {
    StreamRequestHandler::setup();
    limits_ = Limits::from_options(server().options());
}
void BaseHTTPRequestHandler::handle() {}
void BaseHTTPRequestHandler::handle_one_request() {}
void BaseHTTPRequestHandler::do_GET() { do_other(); }
void BaseHTTPRequestHandler::do_HEAD() { do_other(); }
void BaseHTTPRequestHandler::do_POST() { do_other(); }
void BaseHTTPRequestHandler::do_PUT() { do_other(); }
void BaseHTTPRequestHandler::do_DELETE() { do_other(); }
void BaseHTTPRequestHandler::do_OPTIONS() { do_other(); }
void BaseHTTPRequestHandler::do_PATCH() { do_other(); }
void BaseHTTPRequestHandler::do_other() {
    send_error(501, "Unsupported method ('" + command + "')");
}
std::optional<std::uint64_t> BaseHTTPRequestHandler::content_length() const { return std::nullopt; }
bool BaseHTTPRequestHandler::has_body() const { return false; }
std::string BaseHTTPRequestHandler::read_body() { return {}; }
std::size_t BaseHTTPRequestHandler::read_body_some(char*, std::size_t) { return 0; }
void BaseHTTPRequestHandler::send_response(int code, std::string_view message) {
    send_response_only(code, message);
}
void BaseHTTPRequestHandler::send_response_only(int, std::string_view) {}
void BaseHTTPRequestHandler::send_header(std::string_view, std::string_view) {}
void BaseHTTPRequestHandler::end_headers() {}
void BaseHTTPRequestHandler::send_error(int code, std::string_view message, std::string_view) {
    send_response(code, message);
    end_headers();
}
void BaseHTTPRequestHandler::write_body(std::string_view data) { wfile().write(data); }
void BaseHTTPRequestHandler::send_file(int fd, off_t offset, std::size_t count) {
    wfile().send_file(fd, offset, count);
}
void BaseHTTPRequestHandler::log_request(int, std::optional<std::size_t>) {}
void BaseHTTPRequestHandler::log_error(std::string_view message) { log_message(message); }
void BaseHTTPRequestHandler::log_message(std::string_view message) {
    server().log(LogLevel::info, message);
}
std::string BaseHTTPRequestHandler::date_time_string(std::int64_t) { return {}; }
std::string BaseHTTPRequestHandler::date_time_string() {
    return date_time_string(static_cast<std::int64_t>(std::time(nullptr)));
}

}  // namespace sockhost::sdk::http
