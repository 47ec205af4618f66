// SPDX-License-Identifier: MIT
#include "echo.hpp"

#include <optional>

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

sdk::Resume EchoStreamHandler::handle_ready() {
    // A read that filled a whole chunk probably left more behind (a peer
    // streaming bulk data): keep reading, a bounded number of times so
    // other connections get the thread too. A shorter one means the peer
    // is waiting for its echo: answer and park without another read, which
    // would only say EAGAIN.
    constexpr std::size_t kChunk = 16 * 1024;
    constexpr int kReadsPerTurn = 16;
    auto& in = rfile();
    auto& out = wfile();
    for (int i = 0; i < kReadsPerTurn; ++i) {
        std::optional<std::size_t> n = in.fill_nowait();
        if (!n) break;                            // nothing more yet
        if (*n == 0) return sdk::Resume::close;   // end of stream (finish() flushes)
        std::string_view chunk = in.buffered();
        out.write(chunk);
        in.consume(chunk.size());
        out.flush();
        if (*n < kChunk) break;
    }
    // Only an io_timeout needs the time (idle_deadline).
    if (server().io_timeout().count() > 0) last_active_ = std::chrono::steady_clock::now();
    return sdk::Resume::park;
}

std::chrono::steady_clock::time_point EchoStreamHandler::idle_deadline() const {
    const std::chrono::milliseconds timeout = server().io_timeout();
    if (timeout.count() <= 0) return std::chrono::steady_clock::time_point::max();
    return last_active_ + timeout;
}

void EchoDatagramHandler::handle() { wfile().write(rfile().read_all()); }

}  // namespace sockhost::plugins::echo
