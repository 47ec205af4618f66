// SPDX-License-Identifier: MIT
#include "support/http_client.hpp"

#include <algorithm>
#include <cctype>

namespace sockhost::testing {

std::string Response::header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string{} : it->second;
}

Client::Client(std::uint16_t port) : socket_(connect_tcp(port)) {}

void Client::send(std::string_view data) { socket_.send_all(data); }

Response Client::next(bool head) {
    Response r;
    std::size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
        if (!more()) return r;
    std::string head_text = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    r.status = std::stoi(head_text.substr(9, 3));
    std::size_t line_end = head_text.find("\r\n");
    while (line_end != std::string::npos) {
        std::size_t start = line_end + 2;
        line_end = head_text.find("\r\n", start);
        std::string line = head_text.substr(start, line_end == std::string::npos ? std::string::npos
                                                                                 : line_end - start);
        std::size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string name = line.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::size_t v = line.find_first_not_of(' ', colon + 1);
        r.headers[name] = v == std::string::npos ? "" : line.substr(v);
    }
    if (head || r.status == 204 || r.status == 304) {
        r.complete = true;
    } else if (r.header("transfer-encoding") == "chunked") {
        r.complete = read_chunked(r.body);
    } else if (r.headers.count("content-length")) {
        std::size_t length = std::stoul(r.header("content-length"));
        while (buf_.size() < length && more()) {
        }
        r.complete = buf_.size() >= length;
        r.body = buf_.substr(0, length);
        buf_.erase(0, std::min(length, buf_.size()));
    } else {
        while (more()) {
        }
        r.body = std::move(buf_);
        buf_.clear();
        r.complete = eof_;
    }
    return r;
}

std::string Client::rest() {
    std::string out = std::move(buf_);
    buf_.clear();
    return out + socket_.read_all(10s);
}

bool Client::peer_closed() { return buf_.empty() && socket_.peer_closed(5s); }

bool Client::more() {
    std::string chunk = socket_.read_some(20s);
    if (chunk.empty()) {
        eof_ = true;
        return false;
    }
    buf_ += chunk;
    return true;
}
bool Client::read_chunked(std::string& body) {
    for (;;) {
        std::size_t crlf;
        while ((crlf = buf_.find("\r\n")) == std::string::npos)
            if (!more()) return false;
        std::size_t size = std::stoul(buf_.substr(0, crlf), nullptr, 16);
        buf_.erase(0, crlf + 2);
        while (buf_.size() < size + 2)
            if (!more()) return false;
        body.append(buf_, 0, size);
        buf_.erase(0, size + 2);
        if (size == 0) return true;   // no trailers are sent
    }
}

}  // namespace sockhost::testing
