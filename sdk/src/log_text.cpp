// SPDX-License-Identifier: MIT
// The log escaper and the access log's line formats.
#include "sockhost/sdk/log_text.hpp"

#include "sockhost/sdk/utc_time.hpp"

#include <cstdio>
#include <ctime>

namespace sockhost::sdk {

namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/// "22/Nov/2026:09:12:52 +0000" for now, cached per second and thread.
std::string_view clf_now() {
    thread_local std::time_t cached_at = -1;
    thread_local char cached[40];
    thread_local std::size_t length = 0;
    const std::time_t now = std::time(nullptr);
    if (now != cached_at) {
        const UtcTime u = utc_time(static_cast<std::int64_t>(now));
        const int n = std::snprintf(cached, sizeof cached, "%02d/%s/%04d:%02d:%02d:%02d +0000", u.day,
                                    kMonths[(u.month - 1) % 12], u.year, u.hour, u.minute, u.second);
        length = n > 0 ? static_cast<std::size_t>(n) : 0;
        cached_at = now;
    }
    return {cached, length};
}

/// A JSON string literal of `text`: bytes outside printable ASCII as \u00XX.
void append_json_string(std::string& out, std::string_view text) {
    out += '"';
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20 || u >= 0x7f) {
            out += "\\u00";
            out += kHex[u >> 4];
            out += kHex[u & 15];
        } else {
            out += c;
        }
    }
    out += '"';
}

std::string host_of(const SocketAddress* address) {
    if (address == nullptr) return "-";
    std::string host = address->host();
    return host.empty() ? std::string("-") : host;
}

/// Longest request line written to a log line.
constexpr std::size_t kMaxLoggedRequestLine = 2048;

}  // namespace

void append_log_text(std::string& out, std::string_view text) {
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f && c != '"' && c != '\\') {
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else {
            out += "\\x";
            out += kHex[u >> 4];
            out += kHex[u & 15];
        }
    }
}

std::string escape_log_text(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    append_log_text(out, text);
    return out;
}

std::string format_access_line(const AccessRecord& r, AccessLogFormat format, std::string_view server_name) {
    std::string out;
    out.reserve(128 + r.request_line.size());
    if (format == AccessLogFormat::json) {
        out += "{\"time\":\"";
        out += utc_timestamp_now();
        out += "\",\"server\":";
        append_json_string(out, server_name);
        out += ",\"client\":";
        append_json_string(out, host_of(r.client));
        out += ",\"peer\":";
        append_json_string(out, host_of(r.peer));
        out += ",\"method\":";
        append_json_string(out, r.method);
        out += ",\"target\":";
        append_json_string(out, r.target.substr(0, kMaxLoggedRequestLine));
        out += ",\"protocol\":";
        append_json_string(out, r.protocol);
        out += ",\"status\":";
        out += std::to_string(r.status);
        out += ",\"body_bytes_sent\":";
        out += std::to_string(r.body_bytes);
        char ms[32];
        std::snprintf(ms, sizeof ms, "%.3f", static_cast<double>(r.duration.count()) / 1000.0);
        out += ",\"duration_ms\":";
        out += ms;
        out += ",\"tls\":";
        if (r.tls != nullptr) append_json_string(out, r.tls->protocol);
        else out += "null";
        out += ",\"aborted\":";
        out += r.aborted ? "true" : "false";
        out += '}';
        return out;
    }
    // %h - - [%t] "%r" %>s %b
    append_log_text(out, host_of(r.client));
    out += " - - [";
    out += clf_now();
    out += "] \"";
    append_log_text(out, r.request_line.substr(0, kMaxLoggedRequestLine));
    out += "\" ";
    out += std::to_string(r.status);
    out += ' ';
    out += std::to_string(r.body_bytes);
    if (format == AccessLogFormat::combined) {
        out += " \"";
        append_log_text(out, r.referer.empty() ? std::string_view("-") : r.referer);
        out += "\" \"";
        append_log_text(out, r.user_agent.empty() ? std::string_view("-") : r.user_agent);
        out += '"';
    }
    return out;
}

}  // namespace sockhost::sdk
