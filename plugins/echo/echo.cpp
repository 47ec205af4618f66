// SPDX-License-Identifier: MIT
#include "echo.hpp"

namespace sockhost::plugins::echo {

void EchoStreamHandler::handle() {
    // Forward each chunk as it arrives, so an interactive peer sees its echo
    // before it closes.
    auto& in = rfile();
    auto& out = wfile();
    while (in.fill() > 0 || !in.buffered().empty()) {
        std::string_view chunk = in.buffered();
        out.write(chunk);
        in.consume(chunk.size());
        out.flush();
    }
}

void EchoDatagramHandler::handle() { wfile().write(rfile().read_all()); }

}  // namespace sockhost::plugins::echo
