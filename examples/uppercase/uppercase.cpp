// SPDX-License-Identifier: MIT
// uppercase: the example from Python's socketserver docs (MyTCPHandler,
// MyUDPHandler) as a sockhost plugin. Stream: reads one line and answers it
// upper-cased, then the connection closes. Datagram: answers each datagram
// upper-cased. [server.options]: none.
#include <algorithm>
#include <cctype>
#include <string>

#include <sockhost/sdk.hpp>

namespace {

using namespace sockhost::sdk;

/// ASCII upper-casing; other bytes pass through unchanged.
std::string upper(std::string s) {
    std::ranges::transform(s, s.begin(), [](unsigned char c) { return std::toupper(c); });
    return s;
}

/// One line in, the same line upper-cased out (max 64 KiB per line).
class UppercaseTCPHandler : public StreamRequestHandler {
public:
    void handle() override {
        std::string line = rfile().readline(64 * 1024);
        log(LogLevel::info, client_address().to_string() + " wrote " + std::to_string(line.size()) + " bytes");
        wfile().write(upper(std::move(line)));
    }
};

/// One datagram in, one reply datagram out.
class UppercaseUDPHandler : public DatagramRequestHandler {
public:
    void handle() override { wfile().write(upper(rfile().read_all())); }
};

PluginInfo plugin_info() {
    return {.name = "uppercase",
            .version = "1.0.0",
            .transports = Transports::stream | Transports::datagram,
            .validate_options = no_options,
            .make_factory = handler_factory<UppercaseTCPHandler, UppercaseUDPHandler>()};
}

}  // namespace

SOCKHOST_PLUGIN(plugin_info)
