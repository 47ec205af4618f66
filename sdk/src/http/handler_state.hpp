// SPDX-License-Identifier: MIT
// BaseHTTPRequestHandler's private state, shared by the files that implement
// it: base_http_request_handler.cpp (the request loop), request_body.cpp and
// response.cpp. Not installed.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "sockhost/sdk/http/base_http_request_handler.hpp"
#include "sockhost/sdk/http/chunked.hpp"
#include "sockhost/sdk/http/request_parser.hpp"

namespace sockhost::sdk::http {

using Clock = std::chrono::steady_clock;

/// Seconds from [server.options] as a wait, at least 1 ms.
inline std::chrono::milliseconds to_ms(double seconds) {
    auto ms = static_cast<std::int64_t>(std::ceil(seconds * 1000.0));
    return std::chrono::milliseconds(ms < 1 ? 1 : ms);
}

struct BaseHTTPRequestHandler::State {
    explicit State(const Limits& limits) : parser(limits) {}

    RequestParser parser;
    RequestHead head;
    Clock::time_point connected = Clock::now();
    std::uint64_t requests = 0;

    // Between turns.
    /// The head found complete while its short body is still arriving: the
    /// connection is parked until the body is in (or body_timeout passes).
    std::optional<ParseResult> preparsed;
    Clock::time_point body_progress{};         // ... and last received some of it
    Clock::time_point idle_since = connected;  // the last response was done
    Clock::time_point head_started{};          // first byte of a later request's head

    // The request body.
    BodyFraming framing = BodyFraming::none;
    std::uint64_t length = 0;          // declared Content-Length
    std::uint64_t remaining = 0;       // Content-Length bytes not read yet
    std::uint64_t body_read = 0;
    // Made for the first chunked body: most connections never see one, and
    // each keeps its State for as long as it is open (parked too).
    std::unique_ptr<ChunkedDecoder> chunked;
    bool body_done = true;
    bool expect_continue = false;
    bool continue_sent = false;

    // The response.
    Clock::time_point began{};         // the request's head was complete
    std::string head_buf;              // status line and fields until end_headers
    bool corked = false;               // TCP_CORK set for a last answer's file (stays until close)
    int status = 0;                    // the final status sent (for the log)
    bool started = false;              // send_response_only called for a final response
    bool interim = false;              // ... for a 1xx response
    bool ended = false;                // end_headers written the final head
    bool no_body = false;              // HEAD, 1xx, 204, 304: body bytes are dropped
    bool has_connection = false;       // the handler sent a Connection field
    bool chunked_response = false;     // Transfer-Encoding: chunked: write_body frames chunks
    std::optional<std::uint64_t> declared;   // Content-Length the handler sent
    std::size_t request_start = 0;     // wfile().bytes_written() when the request began
    std::size_t body_start = 0;        // ... when the head was ended
    bool force_close = false;          // the connection cannot be reused, whatever is sent
    bool aborted = false;              // an answer (or none) was decided by the layer

    void reset_request(std::size_t written) {
        framing = BodyFraming::none;
        length = remaining = body_read = 0;
        if (chunked) chunked->reset();
        body_done = true;
        expect_continue = continue_sent = false;
        head_buf.clear();
        status = 0;
        started = interim = ended = no_body = has_connection = chunked_response = false;
        declared.reset();
        request_start = body_start = written;
        force_close = aborted = false;
        began = Clock::now();
    }
};

}  // namespace sockhost::sdk::http
