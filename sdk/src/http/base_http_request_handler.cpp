// SPDX-License-Identifier: MIT
// BaseHTTPRequestHandler's request loop: reading a request (head and short
// body) without waiting, dispatching it to do_<METHOD>, keep-alive, the
// deadlines between requests. The request body is read in request_body.cpp,
// the response written in response.cpp.
#include "sockhost/sdk/http/base_http_request_handler.hpp"

#include <cerrno>
#include <system_error>

#include "handler_state.hpp"
#include "sockhost/sdk/errors.hpp"

namespace sockhost::sdk::http {

namespace {

/// Request bodies up to this size (a Content-Length, or chunked) are read
/// in full before the handler runs: a client sending one slowly waits
/// parked (event model), not on a pool thread. Larger ones, and those behind
/// "Expect: 100-continue" (the client waits for the handler's 100), are read
/// by the handler as it asks for them. nginx's client_body_buffer_size.
constexpr std::uint64_t kBufferedBody = 64 * 1024;
/// A chunked body is buffered while its encoded form stays within this
/// (chunk framing of tiny chunks can be several times the data).
constexpr std::size_t kBufferedChunkedBytes = 2 * kBufferedBody;
/// Longest request line kept for the log of a request the parser refused.
constexpr std::size_t kMaxLoggedRequestLine = 2048;

bool buffers_body(const RequestHead& head, const Limits& limits) {
    if (head.expect_continue) return false;
    if (head.framing == BodyFraming::chunked) return true;
    return head.framing == BodyFraming::content_length && head.content_length > 0 &&
           head.content_length <= kBufferedBody && head.content_length <= limits.max_body_size;
}

/// Whether the body after a parsed head is all in `buffered` (its head
/// `head_bytes` long): complete, not yet, or not to be waited for here (too
/// big or malformed: the handler's reads take it from there).
enum class BodyInBuffer { complete, incomplete, give_up };

BodyInBuffer body_in_buffer(const RequestHead& head, const Limits& limits, std::string_view buffered,
                            std::size_t head_bytes) {
    std::string_view body = buffered.substr(head_bytes);
    if (head.framing == BodyFraming::content_length)
        return body.size() >= head.content_length ? BodyInBuffer::complete : BodyInBuffer::incomplete;
    // Chunked: decode what is there (again from its start each time: at
    // most kBufferedChunkedBytes) to see whether the last chunk is in.
    ChunkedDecoder decoder(limits);
    std::uint64_t decoded = 0;
    for (;;) {
        const ChunkedDecoder::Step step = decoder.step(body);
        if (step.status == ParseStatus::error) return BodyInBuffer::give_up;
        decoded += step.data.size();
        body.remove_prefix(step.consumed);
        if (step.status == ParseStatus::done) return BodyInBuffer::complete;
        if (decoded > kBufferedBody || decoded > limits.max_body_size) return BodyInBuffer::give_up;
        if (step.consumed == 0 && step.data.empty())
            return buffered.size() - head_bytes > kBufferedChunkedBytes ? BodyInBuffer::give_up
                                                                          : BodyInBuffer::incomplete;
    }
}

/// Errors that mean "the peer is gone": close quietly.
bool is_disconnect(const std::system_error& e) {
    if (dynamic_cast<const TimeoutError*>(&e)) return true;
    if (e.code().category() != std::generic_category() &&
        e.code().category() != std::system_category())
        return false;
    switch (e.code().value()) {
        case EPIPE: case ECONNRESET: case ECONNABORTED: case ENOTCONN: case ETIMEDOUT:
        case EAGAIN: case ESHUTDOWN:
            return true;
        default:
            return false;
    }
}

}  // namespace

RequestAborted::RequestAborted(const std::string& message) : HandlerError(message) {}
RequestAborted::~RequestAborted() = default;

BaseHTTPRequestHandler::BaseHTTPRequestHandler() : server_version("sockhost/0.1") {
    // Responses are written whole (head + body, or head then sendfile), so
    // Nagle only adds a delayed-ACK stall (~40 ms) to small keep-alive replies.
    disable_nagle_algorithm = true;
}
BaseHTTPRequestHandler::~BaseHTTPRequestHandler() = default;

void BaseHTTPRequestHandler::setup() {
    StreamRequestHandler::setup();
    limits_ = Limits::from_options(server().options());
    state_ = std::make_unique<State>(limits_);
}

// --- The request loop ------------------------------------------------------------

Resume BaseHTTPRequestHandler::handle_ready() {
    State& st = *state_;
    // Waiting for more bytes: the answers so far go out first.
    auto park = [this] {
        try {
            if (wfile().pending() > 0) wfile().flush();
        } catch (const std::system_error&) {
            return Resume::close;
        }
        return Resume::park;
    };
    for (bool served = false;; served = true) {
        if (served) {
            // An answer still waiting for a slow reader in the stream: no
            // further request until it is out (the host resumes the
            // connection once it is sent).
            if (connection().pending()) return Resume::park;
            // After an answer with nothing more buffered, give the thread
            // back without trying another read: a client that waits for each
            // answer has sent nothing yet. Requests already buffered
            // (pipelined) are answered first: no readiness would report them.
            if (rfile().buffered().empty()) return park();
        }
        switch (read_request()) {
            case Next::wait: return park();
            case Next::close: return Resume::close;
            case Next::answered: break;
        }
        serve_request();
        if (close_connection || server().stopping() || st.requests >= limits_.max_keepalive_requests)
            return Resume::close;
        st.idle_since = Clock::now();
        // A pipelined request already buffered started arriving before now.
        st.head_started = rfile().buffered().empty() ? Clock::time_point{} : st.idle_since;
    }
}

BaseHTTPRequestHandler::Next BaseHTTPRequestHandler::read_request() {
    State& st = *state_;
    ParseResult r;
    if (st.preparsed) {
        r = *st.preparsed;   // parked for its body: the head is in
    } else {
        // Read what has arrived until a head is complete (or wrong); never wait.
        for (;;) {
            if (!rfile().buffered().empty()) {
                r = st.parser.parse(rfile().buffered(), st.head);
                if (r.status != ParseStatus::need_more) break;
            }
            const bool was_empty = rfile().buffered().empty();
            std::optional<std::size_t> n;
            try {
                n = rfile().fill_nowait();
            } catch (const std::system_error&) {
                return Next::close;   // reset while idle: close quietly
            }
            if (!n) {
                // RFC 9110 15.5.9: a head that trickles in still has its deadline.
                if (!rfile().buffered().empty() && Clock::now() >= idle_deadline()) {
                    handle_idle_timeout();
                    return Next::close;
                }
                return Next::wait;
            }
            if (*n == 0) return Next::close;   // EOF: idle, or mid-head with nobody to answer
            if (was_empty) st.head_started = Clock::now();
        }
        if (r.status == ParseStatus::error) {
            answer_and_close(r.error_code, r.error_message);
            return Next::close;
        }
    }
    if (buffers_body(st.head, limits_)) {
        // The whole body is read here too, without waiting: the handler then
        // reads it from memory.
        while (body_in_buffer(st.head, limits_, rfile().buffered(), r.consumed) == BodyInBuffer::incomplete) {
            std::optional<std::size_t> n;
            try {
                n = rfile().fill_nowait();
            } catch (const std::system_error&) {
                return Next::close;
            }
            if (!n) {
                if (!st.preparsed) {
                    st.preparsed = r;
                    st.body_progress = Clock::now();
                }
                return Next::wait;   // the host's deadline: idle_deadline()
            }
            if (*n == 0) break;   // end of stream mid-body: the handler's read reports it
            st.body_progress = Clock::now();
        }
    }
    st.preparsed = r;
    return Next::answered;
}

void BaseHTTPRequestHandler::begin_request() {
    State& st = *state_;
    command.clear();
    path.clear();
    request_version.clear();
    raw_requestline.clear();
    headers.clear();
    close_connection = true;
    st.reset_request(wfile().bytes_written());
    ++st.requests;
}

void BaseHTTPRequestHandler::serve_request() {
    State& st = *state_;
    const std::size_t head_bytes = st.preparsed->consumed;
    st.preparsed.reset();
    begin_request();
    rfile().consume(head_bytes);

    RequestHead& head = st.head;
    command = std::move(head.method);
    path = std::move(head.target);
    request_version = std::move(head.version);
    raw_requestline = std::move(head.request_line);
    headers = std::move(head.headers);
    close_connection = !head.keep_alive;
    st.framing = head.framing;
    st.length = st.remaining = head.content_length;
    st.body_done = !(head.framing == BodyFraming::chunked ||
                     (head.framing == BodyFraming::content_length && head.content_length > 0));
    st.expect_continue = head.expect_continue && !st.body_done;
    // The last request allowed on this connection, or the host is stopping:
    // say so in the response (RFC 9112 9.6).
    if (st.requests >= limits_.max_keepalive_requests || server().stopping()) {
        close_connection = true;
        st.force_close = true;
    }
    connection().set_timeout(to_ms(limits_.send_timeout));

    try {
        dispatch();
    } catch (const RequestAborted& e) {
        close_connection = true;
        st.force_close = true;
        st.aborted = true;
        log(LogLevel::debug, std::string("request aborted: ") + e.what());
    } catch (const std::system_error& e) {
        if (!is_disconnect(e)) {
            handler_failed(e.what());
        } else {
            close_connection = true;
            st.force_close = true;
            st.aborted = true;
        }
    } catch (const std::exception& e) {
        handler_failed(e.what());
    } catch (...) {
        handler_failed("unknown exception");
    }
    try {
        finish_response();
    } catch (const std::system_error&) {
        close_connection = true;
    }
}

void BaseHTTPRequestHandler::dispatch() {
    if (command == "GET") do_GET();
    else if (command == "HEAD") do_HEAD();
    else if (command == "POST") do_POST();
    else if (command == "PUT") do_PUT();
    else if (command == "DELETE") do_DELETE();
    else if (command == "OPTIONS") do_OPTIONS();
    else if (command == "PATCH") do_PATCH();
    else do_other();
}

// --- Deadlines between requests -----------------------------------------------

BaseHTTPRequestHandler::Clock::time_point BaseHTTPRequestHandler::idle_deadline() const {
    const State& st = *state_;
    if (st.preparsed) return st.body_progress + to_ms(limits_.body_timeout);
    if (st.requests == 0) return st.connected + to_ms(limits_.header_timeout);
    if (rfile().buffered().empty()) return st.idle_since + to_ms(limits_.keepalive_timeout);
    return st.head_started + to_ms(limits_.header_timeout);
}

void BaseHTTPRequestHandler::handle_idle_timeout() {
    State& st = *state_;
    if (rfile().buffered().empty()) return;   // idle between requests: close quietly
    // RFC 9110 15.5.9: 408 when the request did not arrive in time.
    const bool body = st.preparsed.has_value();
    st.preparsed.reset();
    answer_and_close(408, body ? "Request body timed out" : "Request header timed out");
}

bool BaseHTTPRequestHandler::between_requests() const {
    const State& st = *state_;
    return st.requests > 0 && !st.preparsed && rfile().buffered().empty();
}

void BaseHTTPRequestHandler::release_idle_memory() {
    StreamRequestHandler::release_idle_memory();
    // A parked connection keeps no response-head buffer (~0.5 KiB), not the
    // last request's header fields (~0.3 KiB), nor its request line and
    // target (longer than a string keeps inline).
    std::string().swap(state_->head_buf);
    headers = Headers{};
    std::string().swap(raw_requestline);
    std::string().swap(path);
}

// --- Answers the layer gives itself -----------------------------------------------

void BaseHTTPRequestHandler::set_partial_requestline() {
    // For the log of a request that was refused or never completed: its
    // first line, as far as it came.
    std::string_view b = rfile().buffered();
    while (!b.empty() && (b.front() == '\r' || b.front() == '\n')) b.remove_prefix(1);
    b = b.substr(0, std::min(b.find('\n'), kMaxLoggedRequestLine));
    if (!b.empty() && b.back() == '\r') b.remove_suffix(1);
    raw_requestline.assign(b);
}

void BaseHTTPRequestHandler::answer_and_close(int code, std::string_view message) {
    State& st = *state_;
    begin_request();
    set_partial_requestline();
    st.force_close = true;
    st.aborted = true;
    try {
        connection().set_timeout(to_ms(limits_.send_timeout));
        send_error(code, message);
        finish_response();
    } catch (const std::system_error&) {
    }
}

void BaseHTTPRequestHandler::handler_failed(std::string_view what) {
    State& st = *state_;
    server().log(LogLevel::error, "exception while handling \"" + raw_requestline.substr(0, kMaxLoggedRequestLine) +
                                      "\" from " + client_address().to_string() + ": " + std::string(what));
    close_connection = true;
    st.force_close = true;
    if (!st.ended && wfile().bytes_written() == st.request_start) {
        st.started = false;   // drop a head that was never ended
        st.head_buf.clear();
        try {
            send_error(500);
        } catch (const std::system_error&) {
        }
    }
    st.aborted = true;
}

// --- Method handlers -------------------------------------------------------------

void BaseHTTPRequestHandler::do_GET() { do_other(); }
void BaseHTTPRequestHandler::do_HEAD() { do_other(); }
void BaseHTTPRequestHandler::do_POST() { do_other(); }
void BaseHTTPRequestHandler::do_PUT() { do_other(); }
void BaseHTTPRequestHandler::do_DELETE() { do_other(); }
void BaseHTTPRequestHandler::do_OPTIONS() { do_other(); }
void BaseHTTPRequestHandler::do_PATCH() { do_other(); }
void BaseHTTPRequestHandler::do_other() {
    // Python: send_error(HTTPStatus.NOT_IMPLEMENTED, "Unsupported method (%r)")
    send_error(501, "Unsupported method ('" + command + "')");
}

}  // namespace sockhost::sdk::http
