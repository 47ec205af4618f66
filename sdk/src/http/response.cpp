// SPDX-License-Identifier: MIT
// BaseHTTPRequestHandler: building and sending the response (http.server's
// send_response / send_header / end_headers / send_error), chunked response
// bodies (RFC 9112 7.1), the end of a response, and the access log.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstring>
#include <stdexcept>
#include <system_error>

#include "handler_state.hpp"
#include "sockhost/sdk/http/ascii.hpp"
#include "sockhost/sdk/http/date.hpp"
#include "sockhost/sdk/log_text.hpp"

namespace sockhost::sdk::http {

namespace {

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
    send_header("Date", http_date_now());
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
                if (list_contains(value, "close")) close_connection = true;
                else if (list_contains(value, "keep-alive") && !st.force_close) close_connection = false;
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
            if (iequals(name, "Transfer-Encoding")) st.chunked_response = list_contains(value, "chunked");
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
    const std::string_view phrase = reason_phrase(code);
    const std::string_view description = status_explanation(code);
    std::string shortmsg(message.empty() ? (phrase.empty() ? "???" : phrase) : message);
    std::string longmsg(explain.empty() ? (description.empty() ? "???" : description) : explain);
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
        body = error_page(code, shortmsg, longmsg);
        send_header("Content-Type", kErrorPageContentType);
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
    if (st.no_body || data.empty()) return;
    if (!st.chunked_response) {
        wfile().write(data);
        return;
    }
    // One chunk per write (an empty one would end the body).
    wfile().write(chunk_header(data.size()));
    wfile().write(data);
    wfile().write(kChunkEnd);
}

void BaseHTTPRequestHandler::send_file(int fd, off_t offset, std::size_t count) {
    State& st = *state_;
    if (!st.ended) end_headers();
    if (st.no_body) return;
    if (count == 0) return;
    if (close_connection && !st.corked && peer_address().is_ip() && connection().fd() >= 0) {
        // The connection ends after this answer: cork it (nginx's
        // tcp_nopush), so only full segments leave and the close sends the
        // file's last bytes and the FIN together (flush_more's job for
        // answers without a file). The close, or a shutdown, uncorks.
        int one = 1;
        st.corked = ::setsockopt(connection().fd(), IPPROTO_TCP, TCP_CORK, &one, sizeof one) == 0;
    }
    if (st.chunked_response) wfile().write(chunk_header(count));
    wfile().send_file(fd, offset, count);
    if (st.chunked_response) wfile().write(kChunkEnd);
}

void BaseHTTPRequestHandler::finish_response() {
    State& st = *state_;
    if (!st.started && !st.ended && wfile().bytes_written() == st.request_start && !st.aborted) {
        server().log(LogLevel::error, "handler sent no response to \"" + raw_requestline + "\"");
        st.force_close = true;
        close_connection = true;
        send_error(500, "Handler sent no response");
    }
    if (st.started && !st.ended) end_headers();   // the handler forgot it
    // The last chunk ends a chunked body; a response cut short gets none (the
    // close tells the client it is incomplete).
    if (st.ended && st.chunked_response && !st.no_body) {
        if (st.aborted) close_connection = true;
        else wfile().write(kLastChunk);
    }
    std::size_t body = wfile().bytes_written() - st.body_start;
    // RFC 9112 6.3: a body shorter or longer than its Content-Length breaks
    // framing for the next response. (Not the handler's doing when the
    // response was abandoned: the client went away, or a failure already
    // logged.)
    if (st.ended && !st.no_body && st.declared && !st.chunked_response && *st.declared != body && !st.aborted) {
        log(LogLevel::warning, "response body of " + std::to_string(body) +
                                   " bytes, Content-Length said " + std::to_string(*st.declared));
        close_connection = true;
    }
    if (!close_connection && !st.body_done) drain_body();
    if (st.ended) log_request(st.status, st.no_body ? 0 : body);
    // The last answer: its FIN joins its last segment (the connection is
    // closed or shut right after). Pipelined requests already buffered: answer them
    // before flushing.
    if (close_connection) {
        wfile().flush_more();
        return;
    }
    if (st.corked) {
        // Corked for a last answer, yet kept open after all (the handler
        // changed its mind): uncorking sends what the cork held.
        int zero = 0;
        ::setsockopt(connection().fd(), IPPROTO_TCP, TCP_CORK, &zero, sizeof zero);
        st.corked = false;
    }
    if (rfile().buffered().empty()) wfile().flush();
}

void BaseHTTPRequestHandler::abandon_response() {
    State& st = *state_;
    st.aborted = true;
    st.force_close = true;
    close_connection = true;
}

// --- Logging ---------------------------------------------------------------------

std::string BaseHTTPRequestHandler::log_prefix() const {
    const std::string host = client_address().host();
    std::string out = host.empty() ? std::string(1, '-') : host;
    out += " - - ";
    return out;
}

void BaseHTTPRequestHandler::log_request(int code, std::optional<std::size_t> size) {
    // Making the record is wasted when the host drops it.
    if (!server().access_log_enabled()) return;
    const State& st = *state_;
    AccessRecord r;
    r.client = &client_address();
    r.peer = &peer_address();
    r.tls = tls();
    r.request_line = raw_requestline;
    r.method = command;
    r.target = path;
    r.protocol = request_version;
    r.status = code;
    r.body_bytes = size.value_or(0);
    r.duration = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - st.began);
    r.aborted = st.aborted;
    r.referer = headers.get("Referer").value_or(std::string_view{});
    r.user_agent = headers.get("User-Agent").value_or(std::string_view{});
    r.unflushed_bytes = wfile().pending();
    server().log_access(r);
}

void BaseHTTPRequestHandler::log_error(std::string_view message) {
    server().log(LogLevel::info, log_prefix() + std::string(message));
}

void BaseHTTPRequestHandler::log_message(std::string_view message) {
    server().log(LogLevel::info, log_prefix() + std::string(message));
}

std::string BaseHTTPRequestHandler::date_time_string(std::int64_t t) { return format_http_date(t); }

std::string BaseHTTPRequestHandler::date_time_string() { return std::string(http_date_now()); }

}  // namespace sockhost::sdk::http
