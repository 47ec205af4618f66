// SPDX-License-Identifier: MIT
#include "echo.hpp"

#include <optional>

namespace sockhost::plugins::echo {

sdk::Resume EchoStreamHandler::handle_ready() {
    // A read that filled a whole chunk probably left more behind (a peer
    // streaming bulk data): keep reading, a bounded number of times so
    // other connections get the thread too. A shorter one means the peer
    // is waiting for its echo: answer and park without another read, which
    // would only say "nothing yet".
    constexpr std::size_t kChunk = 16 * 1024;
    constexpr int kReadsPerTurn = 16;
    auto& in = rfile();
    auto& out = wfile();
    // Bytes a previous wait left in rfile (the blocking models wait with a
    // read) go first.
    if (!in.buffered().empty()) {
        out.write(in.buffered());
        in.consume(in.buffered().size());
        out.flush();
    }
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
    if (in.at_eof()) return sdk::Resume::close;
    // Only an io_timeout needs the time (idle_deadline).
    if (server().io_timeout().count() > 0) last_active_ = Clock::now();
    return sdk::Resume::park;
}

sdk::BaseRequestHandler::Clock::time_point EchoStreamHandler::idle_deadline() const {
    const std::chrono::milliseconds timeout = server().io_timeout();
    if (timeout.count() <= 0) return Clock::time_point::max();
    return last_active_ + timeout;
}

void EchoDatagramHandler::handle() { wfile().write(rfile().read_all()); }

}  // namespace sockhost::plugins::echo
