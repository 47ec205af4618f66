// SPDX-License-Identifier: MIT
// BaseHTTPRequestHandler: http.server.BaseHTTPRequestHandler over HTTP/1.1,
// with keep-alive, pipelining, bounded waits and strict parsing.
#include "sockhost/sdk/http/base_http_request_handler.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <system_error>

#include "sockhost/sdk/errors.hpp"
#include "sockhost/sdk/http/ascii.hpp"
#include "sockhost/sdk/http/request_parser.hpp"

namespace sockhost::sdk::http {

namespace {

using Clock = std::chrono::steady_clock;

/// True when `v` holds CR, LF or NUL (RFC 9110 5.5: header injection). All
/// three are below 0x0e, so eight bytes at a time: a word with no byte below
/// 0x0e (the usual case) is passed whole; a flagged one is looked at bytewise.
bool has_cr_lf_or_nul(std::string_view v) {
    auto bad = [](char c) { return c == '\r' || c == '\n' || c == '\0'; };
    constexpr std::uint64_t kOnes = 0x0101010101010101ull;
    constexpr std::uint64_t kHighs = 0x8080808080808080ull;
    std::size_t i = 0;
    for (; i + 8 <= v.size(); i += 8) {
        std::uint64_t w;
        std::memcpy(&w, v.data() + i, sizeof w);
        if (((w - kOnes * 0x0e) & ~w & kHighs) == 0) continue;   // no byte < 0x0e
        for (std::size_t j = i; j < i + 8; ++j)
            if (bad(v[j])) return true;
    }
    for (; i < v.size(); ++i)
        if (bad(v[i])) return true;
    return false;
}

/// True while the connection's output waits in a DeferringSocketStream.
bool output_queued(StreamRequestHandler& handler) {
    auto* deferring = dynamic_cast<DeferringSocketStream*>(&handler.connection());
    return deferring != nullptr && deferring->pending();
}

/// Request bodies up to this size (a Content-Length, or chunked) are read
/// in full by handle_ready() before the handler runs (event model): a
/// client sending one slowly waits parked, not on a thread. Larger ones,
/// and those behind "Expect: 100-continue" (the client waits for the
/// handler's 100), are read by the handler as it asks for them.
constexpr std::uint64_t kBufferedBody = 64 * 1024;
/// A chunked body is buffered while its encoded form stays within this
/// (chunk framing of tiny chunks can be several times the data).
constexpr std::size_t kBufferedChunkedBytes = 2 * kBufferedBody;

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

/// Longest single wait of an idle keep-alive connection before it checks
/// server().stopping() again.
constexpr std::chrono::milliseconds kIdleSlice{250};

/// Request bodies the handler never read are drained up to this size before
/// the next request; a larger one closes the connection instead.
constexpr std::uint64_t kDrainLimit = 64 * 1024;
/// Longest request line written to a log line.
constexpr std::size_t kMaxLoggedRequestLine = 2048;

/// Python's http.server.DEFAULT_ERROR_MESSAGE.
constexpr std::string_view kErrorPage[] = {
    "<!DOCTYPE HTML>\n"
    "<html lang=\"en\">\n"
    "    <head>\n"
    "        <meta charset=\"utf-8\">\n"
    "        <title>Error response</title>\n"
    "    </head>\n"
    "    <body>\n"
    "        <h1>Error response</h1>\n"
    "        <p>Error code: ",
    "</p>\n"
    "        <p>Message: ",
    ".</p>\n"
    "        <p>Error code explanation: ",
    " - ",
    ".</p>\n"
    "    </body>\n"
    "</html>\n"};
constexpr std::string_view kErrorContentType = "text/html;charset=utf-8";

struct Status {
    int code;
    std::string_view phrase;    // RFC 9110 15 reason phrase
    std::string_view explain;   // Python's http.HTTPStatus description
};

constexpr Status kStatuses[] = {
    {100, "Continue", "Request received, please continue"},
    {101, "Switching Protocols", "Switching to new protocol; obey Upgrade header"},
    {102, "Processing", ""},
    {103, "Early Hints", ""},
    {200, "OK", "Request fulfilled, document follows"},
    {201, "Created", "Document created, URL follows"},
    {202, "Accepted", "Request accepted, processing continues off-line"},
    {203, "Non-Authoritative Information", "Request fulfilled from cache"},
    {204, "No Content", "Request fulfilled, nothing follows"},
    {205, "Reset Content", "Clear input form for further input"},
    {206, "Partial Content", "Partial content follows"},
    {207, "Multi-Status", ""},
    {208, "Already Reported", ""},
    {226, "IM Used", ""},
    {300, "Multiple Choices", "Object has several resources -- see URI list"},
    {301, "Moved Permanently", "Object moved permanently -- see URI list"},
    {302, "Found", "Object moved temporarily -- see URI list"},
    {303, "See Other", "Object moved -- see Method and URL list"},
    {304, "Not Modified", "Document has not changed since given time"},
    {305, "Use Proxy", "You must use proxy specified in Location to access this resource"},
    {307, "Temporary Redirect", "Object moved temporarily -- see URI list"},
    {308, "Permanent Redirect", "Object moved permanently -- see URI list"},
    {400, "Bad Request", "Bad request syntax or unsupported method"},
    {401, "Unauthorized", "No permission -- see authorization schemes"},
    {402, "Payment Required", "No payment -- see charging schemes"},
    {403, "Forbidden", "Request forbidden -- authorization will not help"},
    {404, "Not Found", "Nothing matches the given URI"},
    {405, "Method Not Allowed", "Specified method is invalid for this resource"},
    {406, "Not Acceptable", "URI not available in preferred format"},
    {407, "Proxy Authentication Required",
     "You must authenticate with this proxy before proceeding"},
    {408, "Request Timeout", "Request timed out; try again later"},
    {409, "Conflict", "Request conflict"},
    {410, "Gone", "URI no longer exists and has been permanently removed"},
    {411, "Length Required", "Client must specify Content-Length"},
    {412, "Precondition Failed", "Precondition in headers is false"},
    {413, "Content Too Large", "Content is too large"},
    {414, "URI Too Long", "URI is too long"},
    {415, "Unsupported Media Type", "Entity body in unsupported format"},
    {416, "Range Not Satisfiable", "Cannot satisfy request range"},
    {417, "Expectation Failed", "Expect condition could not be satisfied"},
    {418, "I'm a Teapot", "Server refuses to brew coffee because it is a teapot"},
    {421, "Misdirected Request", "Server is not able to produce a response"},
    {422, "Unprocessable Content", "Server is not able to process the contained instructions"},
    {423, "Locked", "Resource of a method is locked"},
    {424, "Failed Dependency", "Dependent action of the request failed"},
    {425, "Too Early", "Server refuses to process a request that might be replayed"},
    {426, "Upgrade Required", "Server refuses to perform the request using the current protocol"},
    {428, "Precondition Required", "The origin server requires the request to be conditional"},
    {429, "Too Many Requests",
     "The user has sent too many requests in a given amount of time (\"rate limiting\")"},
    {431, "Request Header Fields Too Large",
     "The server is unwilling to process the request because its header fields are too large"},
    {451, "Unavailable For Legal Reasons",
     "The server is denying access to the resource as a consequence of a legal demand"},
    {500, "Internal Server Error", "Server got itself in trouble"},
    {501, "Not Implemented", "Server does not support this operation"},
    {502, "Bad Gateway", "Invalid responses from another server/proxy"},
    {503, "Service Unavailable", "The server cannot process the request due to a high load"},
    {504, "Gateway Timeout", "The gateway server did not receive a timely response"},
    {505, "HTTP Version Not Supported", "Cannot fulfill request"},
    {506, "Variant Also Negotiates", "Server has an internal configuration error"},
    {507, "Insufficient Storage", "Server is not able to store the representation"},
    {508, "Loop Detected", "Server encountered an infinite loop while processing a request"},
    {510, "Not Extended", "Request does not meet the resource access policy"},
    {511, "Network Authentication Required",
     "The client needs to authenticate to gain network access"},
};

const Status* find_status(int code) {
    for (const Status& s : kStatuses)
        if (s.code == code) return &s;
    return nullptr;
}

constexpr char lower(char c) { return ascii_lower(c); }

bool contains_token(std::string_view list, std::string_view token) {
    while (!list.empty()) {
        std::size_t comma = list.find(',');
        std::string_view item = list.substr(0, comma);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        if (iequals(item, token)) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

/// Python's html.escape(s, quote=False), as send_error uses it.
std::string html_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            default: out += c;
        }
    }
    return out;
}

/// Log-safe text: control characters, DEL, bytes >= 0x80, '"' and '\' become
/// \xNN (Python's _control_char_table, plus what breaks a CLF quoted field).
std::string escape_for_log(std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 15];
        } else {
            out += c;
        }
    }
    return out;
}

constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/// "[22/Nov/2026:09:12:52 +0000]" for now, cached per second and thread.
std::string clf_date() {
    thread_local std::time_t cached_at = -1;
    thread_local std::string cached;
    std::time_t now = std::time(nullptr);
    if (now != cached_at) {
        std::tm tm{};
        gmtime_r(&now, &tm);
        char buf[40];
        std::snprintf(buf, sizeof buf, "[%02d/%s/%04d:%02d:%02d:%02d +0000]", tm.tm_mday,
                      kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
        cached = buf;
        cached_at = now;
    }
    return cached;
}

std::chrono::milliseconds to_ms(double seconds) {
    auto ms = static_cast<std::int64_t>(std::ceil(seconds * 1000.0));
    return std::chrono::milliseconds(ms < 1 ? 1 : ms);
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

/// send_header's Location rule: a value starting with "//" or "/\" (or "\")
/// is a scheme-relative URL that browsers resolve to another host, an open
/// redirect; the leading run of slashes, backslashes and tabs (browsers drop
/// tabs) becomes one "/" so the target stays on this server.
std::string safe_location(std::string_view value) {
    std::size_t run = 0;
    std::size_t slashes = 0;
    while (run < value.size() && (value[run] == '/' || value[run] == '\\' || value[run] == '\t')) {
        if (value[run] != '\t') ++slashes;
        ++run;
    }
    if (run == 0 || (slashes <= 1 && value[0] == '/' && run == 1)) return std::string(value);
    return "/" + std::string(value.substr(run));
}

}  // namespace

RequestAborted::RequestAborted(const std::string& message) : HandlerError(message) {}
RequestAborted::~RequestAborted() = default;

// --- Limits ----------------------------------------------------------------

Limits Limits::from_options(const Options& options) {
    constexpr std::int64_t kMaxSize = std::int64_t{1} << 40;
    auto seconds = [&](std::string_view key, double fallback) {
        double v = options.get_double(key, fallback);
        if (!(v > 0.0) || v > 86400.0)
            throw OptionError(std::string(key), "must be a number of seconds in (0, 86400]");
        return v;
    };
    Limits l;
    l.max_request_line = static_cast<std::size_t>(
        options.get_int_in("max_request_line", static_cast<std::int64_t>(l.max_request_line), 64,
                           1 << 20));
    l.max_header_count = static_cast<std::size_t>(options.get_int_in(
        "max_header_count", static_cast<std::int64_t>(l.max_header_count), 1, 10000));
    l.max_header_size = static_cast<std::size_t>(options.get_int_in(
        "max_header_size", static_cast<std::int64_t>(l.max_header_size), 256, 16 << 20));
    l.max_body_size = static_cast<std::uint64_t>(options.get_int_in(
        "max_body_size", static_cast<std::int64_t>(l.max_body_size), 0, kMaxSize));
    l.header_timeout = seconds("header_timeout", l.header_timeout);
    l.body_timeout = seconds("body_timeout", l.body_timeout);
    l.send_timeout = seconds("send_timeout", l.send_timeout);
    l.keepalive_timeout = seconds("keepalive_timeout", l.keepalive_timeout);
    l.max_keepalive_requests = static_cast<std::uint64_t>(options.get_int_in(
        "max_keepalive_requests", static_cast<std::int64_t>(l.max_keepalive_requests), 1,
        kMaxSize));
    return l;
}

const std::vector<std::string_view>& Limits::option_keys() {
    static const std::vector<std::string_view> keys = {
        "max_request_line", "max_header_count",  "max_header_size",
        "max_body_size",    "header_timeout",    "body_timeout",
        "send_timeout",     "keepalive_timeout", "max_keepalive_requests"};
    return keys;
}

void validate_http_options(const Options& options,
                           std::initializer_list<std::string_view> plugin_keys) {
    (void)Limits::from_options(options);
    for (const auto& [key, value] : options.values()) {
        bool known = false;
        for (std::string_view k : Limits::option_keys()) known = known || k == key;
        for (std::string_view k : plugin_keys) known = known || k == key;
        if (!known) throw OptionError(key, "unknown option");
    }
}

std::string_view reason_phrase(int code) {
    const Status* s = find_status(code);
    return s ? s->phrase : std::string_view{};
}

// --- State -----------------------------------------------------------------

struct BaseHTTPRequestHandler::State {
    State(BaseHTTPRequestHandler& self, const Limits& limits)
        : parser(limits), resumer(self) {}

    /// sdk::resumable()'s answer for an HTTP handler: forwards to its
    /// non-virtual entry points.
    struct Resumer final : ResumableHandler {
        explicit Resumer(BaseHTTPRequestHandler& h) : self(h) {}
        Resume handle_ready() override { return self.handle_ready(); }
        Clock::time_point idle_deadline() const override { return self.idle_deadline(); }
        void handle_idle_timeout() override { self.handle_idle_timeout(); }
        BaseHTTPRequestHandler& self;
    };

    RequestParser parser;
    RequestHead head;
    Clock::time_point connected = Clock::now();
    std::uint64_t requests = 0;

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
    std::string head_buf;              // status line and fields until end_headers
    bool corked = false;               // TCP_CORK set for a last answer's file (stays until close)
    int status = 0;                    // the final status sent (for the log)
    bool started = false;              // send_response_only called for a final response
    bool interim = false;              // ... for a 1xx response
    bool ended = false;                // end_headers written the final head
    bool no_body = false;              // HEAD, 1xx, 204, 304: body bytes are dropped
    bool has_connection = false;       // the handler sent a Connection field
    bool chunked_response = false;
    std::optional<std::uint64_t> declared;   // Content-Length the handler sent
    std::size_t request_start = 0;     // wfile().bytes_written() when the request began
    std::size_t body_start = 0;        // ... when the head was ended
    bool force_close = false;          // the connection cannot be reused, whatever is sent
    bool aborted = false;              // an answer (or none) was decided by the framework

    // handle_ready() (concurrency = "event").
    Resumer resumer;
    // The head handle_ready() found complete; kept between turns only while
    // the connection waits (parked) for a short body before dispatching it.
    std::optional<ParseResult> preparsed;
    bool awaiting_body() const { return preparsed.has_value(); }
    Clock::time_point body_progress{};  // ... and last received some of it
    Clock::time_point idle_since = connected;   // the last response was done
    Clock::time_point head_started{};  // first byte of a later request's head

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
        aborted = false;
    }
};

BaseHTTPRequestHandler::BaseHTTPRequestHandler() : server_version("sockhost/0.1") {
    // Responses are written whole (head + body, or head then sendfile), so
    // Nagle only adds a delayed-ACK stall (~40 ms) to small keep-alive replies.
    disable_nagle_algorithm = true;
}
BaseHTTPRequestHandler::~BaseHTTPRequestHandler() { delete state_; }

void BaseHTTPRequestHandler::setup() {
    StreamRequestHandler::setup();
    limits_ = Limits::from_options(server().options());
    delete state_;
    state_ = new State(*this, limits_);
}

void BaseHTTPRequestHandler::handle() {
    // Python: close_connection = True; handle_one_request(); while not close...
    close_connection = true;
    do {
        try {
            handle_one_request();
        } catch (const std::system_error&) {
            close_connection = true;   // network failure outside a request: just close
        }
    } while (!close_connection && !server().stopping() &&
             state_->requests < limits_.max_keepalive_requests);
}

void BaseHTTPRequestHandler::handle_one_request() {
    State& st = *state_;
    command.clear();
    path.clear();
    request_version.clear();
    raw_requestline.clear();
    headers.clear();
    close_connection = true;
    st.force_close = false;
    st.reset_request(wfile().bytes_written());
    ++st.requests;

    // --- Wait for the request head -----------------------------------------
    Clock::time_point deadline;
    bool first = st.requests == 1;
    if (rfile().buffered().empty()) {
        // Idle: between requests keepalive_timeout; before the first one the
        // head timeout, counted from the connection.
        double idle = first ? limits_.header_timeout : limits_.keepalive_timeout;
        Clock::time_point idle_deadline =
            (first ? st.connected : Clock::now()) + to_ms(idle);
        try {
            for (;;) {
                auto left = std::chrono::duration_cast<std::chrono::milliseconds>(idle_deadline - Clock::now());
                if (left.count() <= 0) return;  // idle timeout: close silently
                // Waited in slices, so an idle connection notices a host
                // shutdown within kIdleSlice instead of holding it up.
                rfile().stream().set_timeout(std::min(left, kIdleSlice));
                try {
                    if (rfile().fill() == 0) return;   // EOF while idle: a normal close
                    break;
                } catch (const sdk::TimeoutError&) {
                    if (server().stopping()) return;
                }
            }
        } catch (const std::system_error&) {
            return;                             // reset while idle: close silently
        }
    }
    deadline = (first ? st.connected : Clock::now()) + to_ms(limits_.header_timeout);
    for (;;) {
        ParseResult r;
        if (st.preparsed) {
            r = *st.preparsed;   // handle_ready() parsed it already
            st.preparsed.reset();
        } else {
            r = st.parser.parse(rfile().buffered(), st.head);
        }
        if (r.status == ParseStatus::done) {
            rfile().consume(r.consumed);
            break;
        }
        if (r.status == ParseStatus::error) {
            set_partial_requestline();
            st.force_close = true;
            st.aborted = true;
            try {
                rfile().stream().set_timeout(to_ms(limits_.send_timeout));
                send_error(r.error_code, r.error_message);
                finish_response();
            } catch (const std::system_error&) {
            }
            return;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        try {
            // RFC 9110 15.5.9: 408 when the head did not arrive in time.
            if (left.count() <= 0) throw TimeoutError("request head timed out");
            // Answers to pipelined requests must not wait on a half-sent next one.
            if (wfile().pending() > 0) wfile().flush();
            rfile().stream().set_timeout(left);
            if (rfile().fill() == 0) return;   // EOF in mid-head: nobody to answer
        } catch (const TimeoutError&) {
            answer_header_timeout();
            return;
        } catch (const std::system_error&) {
            return;
        }
    }

    // --- The request -------------------------------------------------------
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
    rfile().stream().set_timeout(to_ms(limits_.send_timeout));

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

Resume BaseHTTPRequestHandler::handle_ready() {
    State& st = *state_;
    int served = 0;
    // Waiting for more bytes: the answers so far go out, the connection
    // waits in the host.
    auto park = [this] {
        try {
            if (wfile().pending() > 0) wfile().flush();
        } catch (const std::system_error&) {
            return Resume::close;
        }
        return Resume::park;
    };
    for (;;) {
        // After an answer with nothing more buffered, give the thread back
        // without trying another read: a client that waits for each answer
        // has sent nothing yet (the read would only say EAGAIN), and bytes
        // that did arrive wake the re-armed connection at once. Requests
        // already buffered (pipelined) are answered first: epoll would not
        // wake for them.
        // An answer still queued for a slow reader (the event model's
        // DeferringSocketStream): no further request until it is out; the
        // host resumes the connection once the queue is sent.
        if (served > 0 && output_queued(*this)) return Resume::park;
        if (served > 0 && rfile().buffered().empty()) {
            if (park() == Resume::close) return Resume::close;
            // A parked connection keeps no response-head buffer (~0.5 KiB),
            // not the last request's header fields (~0.3 KiB), nor its
            // request line and target (longer than a string keeps inline).
            std::string().swap(st.head_buf);
            headers = Headers{};
            std::string().swap(raw_requestline);
            std::string().swap(path);
            return Resume::park;
        }
        // Read what has arrived until a head is complete (or wrong); never wait.
        ParseResult r;
        if (st.awaiting_body()) {
            r = *st.preparsed;   // parked for its body: the head is in
        } else {
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
                    return Resume::close;   // reset while idle: close silently
                }
                if (!n) {
                    // RFC 9110 15.5.9: a head that trickles in still has its deadline.
                    if (!rfile().buffered().empty() && Clock::now() >= idle_deadline()) {
                        handle_idle_timeout();
                        return Resume::close;
                    }
                    return park();   // nothing more for now
                }
                if (*n == 0) return Resume::close;   // EOF: idle, or mid-head with nobody to answer
                if (was_empty) st.head_started = Clock::now();
            }
        }
        if (r.status == ParseStatus::done && buffers_body(st.head, limits_)) {
            // The whole body is read here too, without waiting (nginx's
            // client_body_buffer_size): the handler then reads it from
            // memory, and a client that sends it slowly holds no thread.
            while (body_in_buffer(st.head, limits_, rfile().buffered(), r.consumed) == BodyInBuffer::incomplete) {
                std::optional<std::size_t> n;
                try {
                    n = rfile().fill_nowait();
                } catch (const std::system_error&) {
                    return Resume::close;
                }
                if (!n) {
                    if (!st.awaiting_body()) {
                        st.preparsed = r;
                        st.body_progress = Clock::now();
                    }
                    return park();   // the host's deadline: idle_deadline()
                }
                if (*n == 0) break;   // end of stream mid-body: the handler's read reports it
                st.body_progress = Clock::now();
            }
        }
        st.preparsed = r;
        handle_one_request();
        st.preparsed.reset();
        ++served;
        if (close_connection || server().stopping() ||
            st.requests >= limits_.max_keepalive_requests)
            return Resume::close;
        st.idle_since = Clock::now();
        // A pipelined request already buffered started arriving before now.
        st.head_started = rfile().buffered().empty() ? Clock::time_point{} : st.idle_since;
    }
}

std::chrono::steady_clock::time_point BaseHTTPRequestHandler::idle_deadline() const {
    const State& st = *state_;
    if (st.awaiting_body()) return st.body_progress + to_ms(limits_.body_timeout);
    if (st.requests == 0) return st.connected + to_ms(limits_.header_timeout);
    // rfile() has no const accessor; looking at the buffer changes nothing.
    if (const_cast<BaseHTTPRequestHandler*>(this)->rfile().buffered().empty())
        return st.idle_since + to_ms(limits_.keepalive_timeout);
    return st.head_started + to_ms(limits_.header_timeout);
}

void BaseHTTPRequestHandler::handle_idle_timeout() {
    State& st = *state_;
    if (rfile().buffered().empty()) return;   // idle between requests: close silently
    // RFC 9110 15.5.9: 408 when the head did not arrive in time.
    command.clear();
    path.clear();
    request_version.clear();
    headers.clear();
    st.reset_request(wfile().bytes_written());
    ++st.requests;
    close_connection = true;
    answer_header_timeout();
}

void BaseHTTPRequestHandler::answer_header_timeout() {
    State& st = *state_;
    set_partial_requestline();
    st.force_close = true;
    st.aborted = true;
    try {
        rfile().stream().set_timeout(to_ms(limits_.send_timeout));
        send_error(408, st.awaiting_body() ? "Request body timed out" : "Request header timed out");
        finish_response();
    } catch (const std::system_error&) {
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

void BaseHTTPRequestHandler::set_partial_requestline() {
    // For the log of a request the parser refused: its first line, as far as it came.
    std::string_view b = rfile().buffered();
    while (!b.empty() && (b.front() == '\r' || b.front() == '\n')) b.remove_prefix(1);
    b = b.substr(0, std::min(b.find('\n'), kMaxLoggedRequestLine));
    if (!b.empty() && b.back() == '\r') b.remove_suffix(1);
    raw_requestline.assign(b);
}

void BaseHTTPRequestHandler::handler_failed(std::string_view what) {
    State& st = *state_;
    server().log(LogLevel::error, "exception while handling \"" +
                                      escape_for_log(raw_requestline.substr(0, kMaxLoggedRequestLine)) +
                                      "\" from " + client_address().to_string() + ": " +
                                      std::string(what));
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

void BaseHTTPRequestHandler::finish_response() {
    State& st = *state_;
    if (!st.started && !st.ended && wfile().bytes_written() == st.request_start && !st.aborted) {
        server().log(LogLevel::error, "handler sent no response to \"" +
                                          escape_for_log(raw_requestline) + "\"");
        st.force_close = true;
        close_connection = true;
        send_error(500, "Handler sent no response");
    }
    if (st.started && !st.ended) end_headers();   // the handler forgot it
    std::size_t body = wfile().bytes_written() - st.body_start;
    // RFC 9112 6.3: a body shorter or longer than its Content-Length breaks
    // framing for the next response. (Not the handler's doing when the
    // response was abandoned: the client went away, or a failure already
    // logged.)
    if (st.ended && !st.no_body && st.declared && *st.declared != body && !st.aborted) {
        log(LogLevel::warning, "response body of " + std::to_string(body) +
                                   " bytes, Content-Length said " + std::to_string(*st.declared));
        close_connection = true;
    }
    if (!close_connection && !st.body_done) drain_body();
    if (st.ended) log_request(st.status, st.no_body ? 0 : body);
    // The last answer: its FIN joins its last segment (the connection is
    // closed or shut right after: handle(), handle_ready() and the hosts'
    // shutdown_request). Pipelined requests already buffered: answer them
    // before flushing.
    if (close_connection) {
        wfile().flush_more();
        return;
    }
    if (st.corked) {
        // Corked for a last answer, yet kept open after all (the handler
        // changed its mind): uncorking sends what the cork held.
        int zero = 0;
        ::setsockopt(request().fd, IPPROTO_TCP, TCP_CORK, &zero, sizeof zero);
        st.corked = false;
    }
    if (rfile().buffered().empty()) wfile().flush();
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

// --- Method handlers ---------------------------------------------------------

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

// --- The request body ----------------------------------------------------------

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
    rfile().stream().set_timeout(to_ms(limits_.body_timeout));
    std::size_t n = 0;
    try {
        n = rfile().fill();
    } catch (const TimeoutError&) {
        abort_request(408, "Request body timed out");
    } catch (const std::system_error&) {
        abort_request(0, "connection failed while reading the body");
    }
    rfile().stream().set_timeout(to_ms(limits_.send_timeout));
    if (n == 0) abort_request(0, "client closed the connection in mid-body");
}

std::size_t BaseHTTPRequestHandler::read_body_some(char* buffer, std::size_t n) {
    if (n == 0 || !state_ || !begin_body_read()) return 0;
    State& st = *state_;
    if (st.framing == BodyFraming::content_length) {
        if (rfile().buffered().empty()) fill_body();
        std::string_view b = rfile().buffered();
        std::size_t k = static_cast<std::size_t>(
            std::min<std::uint64_t>(st.remaining, std::min(b.size(), n)));
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
            if (st.body_read + k > limits_.max_body_size)
                abort_request(413, "Request body too large");
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
        if (s.consumed == 0) fill_body();
    }
}

std::string BaseHTTPRequestHandler::read_body() {
    std::string body;
    if (!state_ || state_->body_done) return body;
    if (state_->framing == BodyFraming::content_length)
        body.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(
            std::min(state_->length, limits_.max_body_size), 1 << 20)));
    char buf[16 * 1024];
    while (std::size_t n = read_body_some(buf, sizeof buf)) body.append(buf, n);
    return body;
}

// --- The response ------------------------------------------------------------------

namespace {
/// The IMF-fixdate of this second, formatted at most once a second per
/// thread (no lock, no sharing); valid until the thread's next call.
std::string_view cached_date() {
    thread_local std::time_t cached_at = -1;
    thread_local char cached[40];
    thread_local std::size_t length = 0;
    std::time_t now = std::time(nullptr);
    if (now != cached_at) {
        const std::string s = BaseHTTPRequestHandler::date_time_string(static_cast<std::int64_t>(now));
        length = std::min(s.size(), sizeof cached);
        std::memcpy(cached, s.data(), length);
        cached_at = now;
    }
    return {cached, length};
}

/// The buffer of the last response head built on this thread, given back by
/// end_headers(): the next head is built in it without allocating, and an
/// idle connection holds none.
thread_local std::string tls_spare_head;
constexpr std::size_t kHeadReserve = 512;

void give_back_head(std::string& head) {
    head.clear();
    if (head.capacity() > tls_spare_head.capacity() && head.capacity() <= 64 * 1024) head.swap(tls_spare_head);
    std::string().swap(head);
}
}  // namespace

void BaseHTTPRequestHandler::send_response(int code, std::string_view message) {
    send_response_only(code, message);
    send_header("Server", server_version);
    send_header("Date", cached_date());
}

void BaseHTTPRequestHandler::send_response_only(int code, std::string_view message) {
    State& st = *state_;
    if (st.ended && code >= 200)
        throw std::logic_error("send_response: the response head was already sent");
    if (code < 100 || code > 999) throw std::invalid_argument("send_response: bad status code");
    if (message.empty()) message = reason_phrase(code);
    // The whole head is built in this string: room for a typical one at once
    // instead of growing it by doubling as the fields are added.
    std::string& line = st.head_buf;
    if (line.capacity() < kHeadReserve && tls_spare_head.capacity() >= kHeadReserve) line.swap(tls_spare_head);
    line.clear();
    line.reserve(kHeadReserve);
    line += protocol_version;
    line += ' ';
    line += std::to_string(code);
    line += ' ';
    // RFC 9112 4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ); no CR/LF injection.
    for (char c : message) {
        auto u = static_cast<unsigned char>(c);
        line += (u < 0x20 && c != '\t') || u == 0x7f ? ' ' : c;
    }
    line += "\r\n";
    st.interim = code < 200 && code != 101;
    st.started = !st.interim;
    st.has_connection = false;
    st.chunked_response = false;
    st.declared.reset();
    if (!st.interim) {
        st.status = code;
        // RFC 9110 9.3.2, 15.3.5, 15.4.5: no content after HEAD, 204, 304 (and 1xx).
        st.no_body = command == "HEAD" || code < 200 || code == 204 || code == 304;
    }
}

void BaseHTTPRequestHandler::send_header(std::string_view name, std::string_view value) {
    State& st = *state_;
    if (!st.started && !st.interim) throw std::logic_error("send_header before send_response");
    // RFC 9110 5.1, 5.5: a token name; no CR, LF or NUL in a value (header injection).
    if (!is_token(name)) throw std::invalid_argument("send_header: invalid field name");
    if (has_cr_lf_or_nul(value)) throw std::invalid_argument("send_header: CR, LF or NUL in a field value");
    std::string safe;
    // The names the layer watches, told apart by length first: most fields
    // (Server, Date, Content-Type, ETag ...) match none of these lengths.
    switch (name.size()) {
        case 8:
            if (iequals(name, "Location")) {
                safe = safe_location(value);
                value = safe;
            }
            break;
        case 10:
            if (iequals(name, "Connection")) {
                st.has_connection = true;
                if (contains_token(value, "close")) close_connection = true;
                else if (contains_token(value, "keep-alive") && !st.force_close) close_connection = false;
            }
            break;
        case 14:
            if (iequals(name, "Content-Length")) {
                std::uint64_t v = 0;
                bool ok = !value.empty();
                for (char c : value) {
                    if (c < '0' || c > '9' || v > (~std::uint64_t{0} - 9) / 10) ok = false;
                    else v = v * 10 + static_cast<std::uint64_t>(c - '0');
                }
                if (!ok) throw std::invalid_argument("send_header: bad Content-Length");
                st.declared = v;
            }
            break;
        case 17:
            if (iequals(name, "Transfer-Encoding")) st.chunked_response = contains_token(value, "chunked");
            break;
        default:
            break;
    }
    // One append of "name: value\r\n" (the head's buffer was reserved).
    std::string& h = st.head_buf;
    const std::size_t at = h.size();
    h.append(name.size() + value.size() + 4, ':');
    char* out = h.data() + at;
    std::memcpy(out, name.data(), name.size());
    out += name.size();
    out[0] = ':';
    out[1] = ' ';
    std::memcpy(out + 2, value.data(), value.size());
    out += 2 + value.size();
    out[0] = '\r';
    out[1] = '\n';
}

void BaseHTTPRequestHandler::end_headers() {
    State& st = *state_;
    if (st.interim) {
        // A 1xx: its own head, sent now; the final response follows.
        st.head_buf += "\r\n";
        wfile().write(st.head_buf);
        wfile().flush();
        give_back_head(st.head_buf);
        st.interim = false;
        st.request_start = wfile().bytes_written();
        st.body_start = st.request_start;
        return;
    }
    if (!st.started) throw std::logic_error("end_headers before send_response");
    if (st.ended) return;
    bool body_allowed = st.status >= 200 && st.status != 204 && st.status != 304;
    // RFC 9112 6.3 (8): without a length or chunked, the body ends at close.
    if (body_allowed && command != "HEAD" && !st.declared && !st.chunked_response)
        close_connection = true;
    if (st.force_close) close_connection = true;
    if (!st.has_connection) {
        if (close_connection) send_header("Connection", "close");
        // RFC 9112 9.3: an HTTP/1.0 client needs to be told the connection persists.
        else if (request_version == "HTTP/1.0") send_header("Connection", "keep-alive");
    }
    st.head_buf += "\r\n";
    wfile().write(st.head_buf);   // buffered: small bodies go out in the same send
    give_back_head(st.head_buf);
    st.ended = true;
    st.body_start = wfile().bytes_written();
}

void BaseHTTPRequestHandler::send_error(int code, std::string_view message,
                                        std::string_view explain) {
    State& st = *state_;
    const Status* s = find_status(code);
    std::string shortmsg(message.empty() ? (s ? s->phrase : "???") : message);
    std::string longmsg(explain.empty() ? (s ? s->explain : "???") : explain);
    log_error("code " + std::to_string(code) + ", message " + shortmsg);
    if (st.ended) {
        // Too late for another head: the client can only learn by the close.
        close_connection = true;
        return;
    }
    send_response(code, shortmsg);
    std::string body;
    // Python: no body for 1xx, 204, 205, 304.
    if (code >= 200 && code != 204 && code != 205 && code != 304) {
        std::string c = std::to_string(code);
        body.reserve(512);
        body.append(kErrorPage[0]).append(c);
        body.append(kErrorPage[1]).append(html_escape(shortmsg));
        body.append(kErrorPage[2]).append(c);
        body.append(kErrorPage[3]).append(html_escape(longmsg));
        body.append(kErrorPage[4]);
        send_header("Content-Type", kErrorContentType);
        send_header("Content-Length", std::to_string(body.size()));
    } else if (code == 205) {
        send_header("Content-Length", "0");
    }
    end_headers();
    if (!body.empty()) write_body(body);
}

void BaseHTTPRequestHandler::write_body(std::string_view data) {
    State& st = *state_;
    if (!st.ended) end_headers();
    // HEAD, 1xx, 204, 304: any content would be read as the next response.
    if (st.no_body) return;
    wfile().write(data);
}

void BaseHTTPRequestHandler::send_file(int fd, off_t offset, std::size_t count) {
    State& st = *state_;
    if (!st.ended) end_headers();
    if (st.no_body) return;
    if (close_connection && !st.corked && client_address().is_ip()) {
        // The connection ends after this answer: cork it (nginx's
        // tcp_nopush), so only full segments leave and the close sends the
        // file's last bytes and the FIN together (flush_more's job for
        // answers without a file). The close, or a shutdown, uncorks.
        int one = 1;
        st.corked = ::setsockopt(request().fd, IPPROTO_TCP, TCP_CORK, &one, sizeof one) == 0;
    }
    wfile().send_file(fd, offset, count);
}

// --- Logging ---------------------------------------------------------------------

std::string BaseHTTPRequestHandler::log_prefix() const {
    // Built by appending: GCC 12 warns (-Wrestrict, a false positive) on
    // assigning a literal to a std::string here.
    const std::string host = client_address().host();
    std::string out = host.empty() ? std::string(1, '-') : escape_for_log(host);
    out += " - - ";
    out += clf_date();
    out += ' ';
    return out;
}

void BaseHTTPRequestHandler::log_request(int code, std::optional<std::size_t> size) {
    // Formatting the line (address, date, escaping) is wasted when dropped.
    if (!server().access_log_enabled()) return;
    std::string_view line = raw_requestline;
    std::string text = log_prefix() + "\"" + escape_for_log(line.substr(0, kMaxLoggedRequestLine)) +
                       "\" " + std::to_string(code) + " " +
                       (size ? std::to_string(*size) : std::string("-"));
    server().log_access(text);
}

void BaseHTTPRequestHandler::log_error(std::string_view message) {
    server().log(LogLevel::info, log_prefix() + escape_for_log(message));
}

void BaseHTTPRequestHandler::log_message(std::string_view message) {
    server().log(LogLevel::info, log_prefix() + escape_for_log(message));
}

std::string BaseHTTPRequestHandler::date_time_string(std::int64_t t) {
    // RFC 9110 5.6.7: IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT".
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday % 7],
                  tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    return buf;
}

std::string BaseHTTPRequestHandler::date_time_string() { return std::string(cached_date()); }

}  // namespace sockhost::sdk::http

namespace sockhost::sdk {

ResumableHandler* resumable(BaseRequestHandler& handler) {
    if (auto* own = dynamic_cast<ResumableHandler*>(&handler)) return own;
    if (auto* http = dynamic_cast<http::BaseHTTPRequestHandler*>(&handler))
        return http->state_ ? &http->state_->resumer : nullptr;
    return nullptr;
}

}  // namespace sockhost::sdk
