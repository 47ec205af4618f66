// SPDX-License-Identifier: MIT
// Test support: an HTTP/1.1 client over a raw socket that reads responses
// one at a time with every framing (Content-Length, chunked, until close).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "support/host_process.hpp"

namespace sockhost::testing {

/// One parsed response.
struct Response {
    int status = 0;                                  // 0: closed or timed out before a head
    std::map<std::string, std::string> headers;      // names lower-cased; repeated: last
    std::string body;
    bool complete = false;   // the framing said where the body ended (or close did)
    std::string header(const std::string& name) const;
};

/// One client connection. All waits bounded.
class Client {
public:
    explicit Client(std::uint16_t port);
    void send(std::string_view data);
    /// The next response; `head`: the answer to a HEAD (no body whatever the length).
    Response next(bool head = false);
    /// Everything left until the peer closes (for raw checks).
    std::string rest();
    /// True when the peer closed and nothing is left unread.
    bool peer_closed();

private:
    bool more();
    bool read_chunked(std::string& body);

    Socket socket_;
    std::string buf_;
    bool eof_ = false;
};

}  // namespace sockhost::testing
