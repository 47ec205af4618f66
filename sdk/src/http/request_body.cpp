// SPDX-License-Identifier: MIT
// BaseHTTPRequestHandler: reading the request body (RFC 9112 6, 7.1),
// 100-continue (RFC 9110 10.1.1), and draining what the handler left.
#include <cstring>
#include <system_error>

#include "handler_state.hpp"
#include "sockhost/sdk/errors.hpp"

namespace sockhost::sdk::http {

namespace {
/// Request bodies the handler never read are drained up to this size before
/// the next request; a larger one closes the connection instead.
constexpr std::uint64_t kDrainLimit = 64 * 1024;
}  // namespace

std::optional<std::uint64_t> BaseHTTPRequestHandler::content_length() const {
    if (state_ && state_->framing == BodyFraming::content_length) return state_->length;
    return std::nullopt;
}

bool BaseHTTPRequestHandler::has_body() const {
    if (!state_) return false;
    return state_->framing == BodyFraming::chunked ||
           (state_->framing == BodyFraming::content_length && state_->length > 0);
}

void BaseHTTPRequestHandler::abort_request(int code, std::string_view message) {
    State& st = *state_;
    close_connection = true;
    st.force_close = true;
    st.aborted = true;
    if (code && !st.ended && wfile().bytes_written() == st.request_start) {
        st.started = false;
        st.head_buf.clear();
        try {
            send_error(code, message);
        } catch (const std::system_error&) {
        }
    }
    throw RequestAborted(std::string(message));
}

bool BaseHTTPRequestHandler::begin_body_read() {
    State& st = *state_;
    if (st.body_done) return false;
    // RFC 9110 15.5.14: 413 before reading (and before inviting) a body
    // known to be too large.
    if (st.framing == BodyFraming::content_length && st.length > limits_.max_body_size)
        abort_request(413, "Request body too large");
    // RFC 9110 10.1.1: 100 Continue only once the handler wants the body, and
    // never after a final response has begun.
    if (st.expect_continue && !st.continue_sent && !st.ended &&
        wfile().bytes_written() == st.request_start) {
        st.continue_sent = true;
        wfile().write(protocol_version + " 100 Continue\r\n\r\n");
        wfile().flush();
    }
    st.continue_sent = true;
    return true;
}

void BaseHTTPRequestHandler::fill_body() {
    connection().set_timeout(to_ms(limits_.body_timeout));
    std::size_t n = 0;
    try {
        n = rfile().fill();
    } catch (const TimeoutError&) {
        abort_request(408, "Request body timed out");
    } catch (const std::system_error&) {
        abort_request(0, "connection failed while reading the body");
    }
    connection().set_timeout(to_ms(limits_.send_timeout));
    if (n == 0) abort_request(0, "client closed the connection in mid-body");
}

std::optional<std::size_t> BaseHTTPRequestHandler::take_body(char* buffer, std::size_t n, bool wait) {
    if (n == 0 || !state_ || !begin_body_read()) return 0;
    State& st = *state_;
    // More input: false when none has arrived (only when not waiting).
    auto more = [&]() -> bool {
        if (wait) {
            fill_body();
            return true;
        }
        std::optional<std::size_t> got;
        try {
            got = rfile().fill_nowait();
        } catch (const std::system_error&) {
            abort_request(0, "connection failed while reading the body");
        }
        if (!got) return false;
        if (*got == 0) abort_request(0, "client closed the connection in mid-body");
        return true;
    };
    if (st.framing == BodyFraming::content_length) {
        if (rfile().buffered().empty() && !more()) return std::nullopt;
        std::string_view b = rfile().buffered();
        std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(st.remaining, std::min(b.size(), n)));
        std::memcpy(buffer, b.data(), k);
        rfile().consume(k);
        st.remaining -= k;
        st.body_read += k;
        if (st.remaining == 0) st.body_done = true;
        return k;
    }
    if (!st.chunked) st.chunked = std::make_unique<ChunkedDecoder>(limits_);
    for (;;) {
        ChunkedDecoder::Step s = st.chunked->step(rfile().buffered(), n);
        if (s.status == ParseStatus::error) abort_request(s.error_code, s.error_message);
        std::size_t k = s.data.size();
        if (k > 0) {
            if (st.body_read + k > limits_.max_body_size) abort_request(413, "Request body too large");
            std::memcpy(buffer, s.data.data(), k);
        }
        rfile().consume(s.consumed);
        if (k > 0) {
            st.body_read += k;
            return k;
        }
        if (s.status == ParseStatus::done) {
            st.body_done = true;
            return 0;
        }
        if (s.consumed == 0 && !more()) return std::nullopt;
    }
}

std::size_t BaseHTTPRequestHandler::read_body_some(char* buffer, std::size_t n) {
    return take_body(buffer, n, true).value_or(0);
}

std::optional<std::size_t> BaseHTTPRequestHandler::read_body_nowait(char* buffer, std::size_t n) {
    return take_body(buffer, n, false);
}

std::string BaseHTTPRequestHandler::read_body() {
    std::string body;
    if (!state_ || state_->body_done) return body;
    if (state_->framing == BodyFraming::content_length)
        body.reserve(static_cast<std::size_t>(
            std::min<std::uint64_t>(std::min(state_->length, limits_.max_body_size), 1 << 20)));
    char buf[16 * 1024];
    while (std::size_t n = read_body_some(buf, sizeof buf)) body.append(buf, n);
    return body;
}

void BaseHTTPRequestHandler::drain_body() {
    State& st = *state_;
    // RFC 9110 10.1.1: the client may still be waiting for 100 Continue and
    // never send the body; where the next request starts is unknown.
    if (st.expect_continue && !st.continue_sent) {
        close_connection = true;
        return;
    }
    if (st.framing == BodyFraming::content_length && st.remaining > kDrainLimit) {
        close_connection = true;
        return;
    }
    char scratch[4096];
    std::uint64_t drained = 0;
    try {
        while (std::size_t n = read_body_some(scratch, sizeof scratch)) {
            drained += n;
            if (drained > kDrainLimit) {
                close_connection = true;
                return;
            }
        }
    } catch (const std::exception&) {
        close_connection = true;
    }
}

}  // namespace sockhost::sdk::http
