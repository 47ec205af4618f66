// SPDX-License-Identifier: MIT
// Pure CGI/1.1 logic of the cgi plugin: see cgi_protocol.hpp.
#include "cgi_protocol.hpp"

#include <sockhost/sdk/http/ascii.hpp>
#include <sockhost/sdk/http/headers.hpp>

#include <cerrno>

namespace sockhost::plugins::cgi {

namespace {

using sdk::http::ascii_upper;
using sdk::http::iequals;
using sdk::http::trim_ows;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/// Python's str.split() with no argument: runs of whitespace separate.
std::vector<std::string_view> split_whitespace(std::string_view s) {
    std::vector<std::string_view> words;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && is_space(s[i])) ++i;
        std::size_t start = i;
        while (i < s.size() && !is_space(s[i])) ++i;
        if (i > start) words.push_back(s.substr(start, i - start));
    }
    return words;
}

}  // namespace

// --- Where the script is -----------------------------------------------------

std::optional<std::vector<std::string>> parse_cgi_directory(std::string_view dir) {
    if (dir.empty() || dir.front() != '/') return std::nullopt;
    std::vector<std::string> segments;
    while (!dir.empty()) {
        std::size_t slash = dir.find('/');
        std::string_view seg = dir.substr(0, slash);
        dir = slash == std::string_view::npos ? std::string_view{} : dir.substr(slash + 1);
        if (seg.empty()) continue;
        if (seg == "." || seg == ".." || seg.find('\0') != std::string_view::npos) return std::nullopt;
        segments.emplace_back(seg);
    }
    if (segments.empty()) return std::nullopt;   // "/" would make every path a script
    return segments;
}

std::optional<std::size_t> match_cgi_directory(const std::vector<std::string>& segments,
                                               const std::vector<std::vector<std::string>>& dirs) {
    std::optional<std::size_t> best;
    for (const std::vector<std::string>& dir : dirs) {
        if (dir.size() > segments.size()) continue;
        bool match = true;
        for (std::size_t i = 0; i < dir.size() && match; ++i) match = segments[i] == dir[i];
        if (match && (!best || dir.size() > *best)) best = dir.size();
    }
    return best;
}

ScriptLocation locate_script(const std::filesystem::path& root,
                             const std::vector<std::string>& segments, std::size_t dir_len,
                             const StatFn& stat_fn) {
    ScriptLocation loc;
    std::filesystem::path p = root;
    for (std::size_t i = 0; i < segments.size(); ++i) {
        p /= segments[i];
        if (i < dir_len) continue;   // the CGI directory itself
        struct stat st {};
        if (int err = stat_fn(p, st); err != 0) {
            loc.status = (err == ENOENT || err == ENOTDIR || err == ENAMETOOLONG || err == ELOOP) ? 404
                         : 403;
            return loc;
        }
        if (S_ISDIR(st.st_mode)) continue;
        if (!S_ISREG(st.st_mode)) {
            loc.status = 403;   // FIFO, device, socket: never executed
            return loc;
        }
        loc.script_len = i + 1;
        return loc;
    }
    loc.status = 403;   // a directory in the CGI tree: no listing, nothing to run
    return loc;
}

std::string join_url(const std::vector<std::string>& segments, std::size_t from, std::size_t to) {
    std::string out;
    for (std::size_t i = from; i < to && i < segments.size(); ++i) {
        out += '/';
        out += segments[i];
    }
    return out;
}

std::string path_info_for(const std::vector<std::string>& segments, std::size_t script_len,
                          bool trailing_slash) {
    std::string info = join_url(segments, script_len, segments.size());
    if (trailing_slash) info += '/';
    return info;
}

// --- Meta-variables -----------------------------------------------------------

std::optional<std::string> base64_decode_lenient(std::string_view text) {
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    std::string out;
    unsigned quad_pos = 0;
    unsigned pads = 0;
    unsigned leftchar = 0;
    for (char c : text) {
        if (c == '=') {
            // binascii: a pad after at least two data characters of a quantum
            // counts; enough of them end the data.
            if (quad_pos >= 2 && quad_pos + ++pads >= 4) return out;
            continue;
        }
        int v = value(c);
        if (v < 0) continue;   // non-alphabet bytes are skipped (strict_mode=False)
        pads = 0;
        switch (quad_pos) {
            case 0:
                leftchar = static_cast<unsigned>(v);
                quad_pos = 1;
                break;
            case 1:
                out.push_back(static_cast<char>((leftchar << 2) | (static_cast<unsigned>(v) >> 4)));
                leftchar = static_cast<unsigned>(v) & 0x0f;
                quad_pos = 2;
                break;
            case 2:
                out.push_back(static_cast<char>((leftchar << 4) | (static_cast<unsigned>(v) >> 2)));
                leftchar = static_cast<unsigned>(v) & 0x03;
                quad_pos = 3;
                break;
            default:
                out.push_back(static_cast<char>((leftchar << 6) | static_cast<unsigned>(v)));
                quad_pos = 0;
                break;
        }
    }
    if (quad_pos != 0) return std::nullopt;   // "Incorrect padding"
    return out;
}

AuthInfo decode_authorization(std::string_view field) {
    AuthInfo info;
    std::vector<std::string_view> words = split_whitespace(field);
    if (words.size() != 2) return info;
    info.auth_type = std::string(words[0]);
    if (!iequals(words[0], "basic")) return info;
    std::optional<std::string> decoded = base64_decode_lenient(words[1]);
    if (!decoded) return info;
    for (char c : *decoded)
        if (static_cast<unsigned char>(c) >= 0x80) return info;   // .decode('ascii') failed
    std::size_t colon = decoded->find(':');
    if (colon == std::string::npos || decoded->find(':', colon + 1) != std::string::npos)
        return info;   // Python: split(':') must give exactly two parts
    info.remote_user = decoded->substr(0, colon);
    return info;
}

std::optional<std::string> header_meta_variable(std::string_view field_name) {
    if (field_name.empty() || field_name.find('_') != std::string_view::npos) return std::nullopt;
    for (std::string_view banned : {"Proxy", "Authorization", "Proxy-Authorization", "Content-Type",
                                    "Content-Length", "Transfer-Encoding"})
        if (iequals(field_name, banned)) return std::nullopt;
    std::string name = "HTTP_";
    for (char c : field_name) name += c == '-' ? '_' : ascii_upper(c);
    return name;
}

std::string server_name_for(std::optional<std::string_view> host_field, std::string_view fallback) {
    if (!host_field) return std::string(fallback);
    std::string_view host = trim_ows(*host_field);
    if (!host.empty() && host.front() == '[') {
        std::size_t close = host.find(']');
        if (close == std::string_view::npos) return std::string(fallback);
        std::string_view inside = host.substr(1, close - 1);
        if (inside.empty()) return std::string(fallback);
        for (char c : inside)
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                  c == ':' || c == '.'))
                return std::string(fallback);
        return std::string(host.substr(0, close + 1));
    }
    host = host.substr(0, host.find(':'));
    if (host.empty()) return std::string(fallback);
    for (char c : host)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '-'))
            return std::string(fallback);
    return std::string(host);
}

std::vector<std::string> build_environment(const CgiRequest& r, const sdk::http::Headers& headers) {
    std::vector<std::string> env;
    env.reserve(24 + headers.size());
    auto set = [&env](std::string_view name, std::string_view value) {
        if (value.find('\0') != std::string_view::npos) return;
        std::string entry(name);
        entry += '=';
        entry += value;
        env.push_back(std::move(entry));
    };
    // RFC 3875 4.1.1: AUTH_TYPE from the Authorization scheme; 4.1.11 REMOTE_USER.
    if (auto auth = headers.get("Authorization")) {
        AuthInfo info = decode_authorization(*auth);
        if (info.auth_type) set("AUTH_TYPE", *info.auth_type);
        if (info.remote_user) set("REMOTE_USER", *info.remote_user);
    }
    // RFC 3875 4.1.2, 4.1.3: only for a request with a body; a chunked body
    // has no length to give (the script reads stdin to EOF, 4.2).
    if (r.with_body) {
        if (r.content_length) set("CONTENT_LENGTH", std::to_string(*r.content_length));
        if (auto type = headers.get("Content-Type")) set("CONTENT_TYPE", *type);
    }
    set("GATEWAY_INTERFACE", "CGI/1.1");                     // 4.1.4
    set("PATH_INFO", r.path_info);                           // 4.1.5
    if (!r.path_info.empty()) set("PATH_TRANSLATED", r.path_translated);   // 4.1.6
    set("QUERY_STRING", r.query);                            // 4.1.7: "" when absent
    set("REMOTE_ADDR", r.remote_addr);                       // 4.1.8
    set("REMOTE_HOST", r.remote_addr);                       // 4.1.9: no DNS lookup
    set("REQUEST_METHOD", r.method);                         // 4.1.12
    set("SCRIPT_NAME", r.script_name);                       // 4.1.13
    set("SERVER_NAME", r.server_name);                       // 4.1.14
    set("SERVER_PORT", r.server_port);                       // 4.1.15
    set("SERVER_PROTOCOL", r.protocol);                      // 4.1.16
    set("SERVER_SOFTWARE", r.server_software);               // 4.1.17
    // RFC 3875 4.1.18: protocol-specific variables, one per field name.
    std::vector<std::string> seen;
    for (const auto& [name, value] : headers.fields()) {
        std::optional<std::string> var = header_meta_variable(name);
        if (!var) continue;
        bool done = false;
        for (const std::string& s : seen) done = done || s == *var;
        if (done) continue;
        seen.push_back(*var);
        set(*var, headers.get_all(name, iequals(name, "Cookie") ? "; " : ", "));
    }
    set("PATH", kScriptPath);
    return env;
}

// --- The script's response ------------------------------------------------------

HeaderBlockResult parse_header_block(std::string_view data, std::size_t max_size) {
    HeaderBlockResult result;
    auto invalid = [&result](std::string why) -> HeaderBlockResult& {
        result.state = HeaderBlockResult::State::invalid;
        result.error = std::move(why);
        return result;
    };
    // Find the blank line first: nothing is decided on a partial block.
    std::vector<std::string_view> lines;
    std::size_t pos = 0;
    bool complete = false;
    while (pos < data.size() && pos < max_size) {
        std::size_t nl = data.find('\n', pos);
        if (nl == std::string_view::npos || nl >= max_size) break;
        std::string_view line = data.substr(pos, nl - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        pos = nl + 1;
        if (line.empty()) {
            complete = true;
            break;
        }
        lines.push_back(line);
    }
    if (!complete) {
        if (data.size() >= max_size) return invalid("header block larger than " + std::to_string(max_size) + " bytes");
        return result;
    }
    result.consumed = pos;
    if (lines.empty()) return invalid("empty header block");

    CgiResponse& resp = result.response;
    bool has_status = false;
    bool has_type = false;
    for (std::string_view line : lines) {
        // RFC 3875 6.3: header fields as HTTP's, so HTTP's field-line rules
        // (no continuation lines, a token name, no controls in the value).
        std::string_view name, value;
        if (const char* why = sdk::http::parse_field_line(line, name, value)) return invalid(why);
        if (iequals(name, "Status")) {
            // RFC 3875 6.3.3: Status = status-code SP reason-phrase.
            if (has_status) return invalid("more than one Status");
            has_status = true;
            if (value.size() < 3 || (value.size() > 3 && value[3] != ' ' && value[3] != '\t'))
                return invalid("malformed Status");
            int code = 0;
            for (std::size_t i = 0; i < 3; ++i) {
                if (value[i] < '0' || value[i] > '9') return invalid("malformed Status");
                code = code * 10 + (value[i] - '0');
            }
            if (code < 200 || code > 599) return invalid("Status out of range");
            resp.status = code;
            resp.reason = std::string(trim_ows(value.substr(3)));
            continue;
        }
        if (iequals(name, "Location")) {
            // RFC 3875 6.3.2
            if (resp.location) return invalid("more than one Location");
            if (value.empty()) return invalid("empty Location");
            resp.location = std::string(value);
        } else if (iequals(name, "Content-Type")) {
            // RFC 3875 6.3.1
            if (has_type) return invalid("more than one Content-Type");
            has_type = true;
        } else if (iequals(name, "Content-Length")) {
            if (resp.content_length || value.empty() || value.size() > 19)
                return invalid("malformed Content-Length");
            std::uint64_t n = 0;
            for (char c : value) {
                if (c < '0' || c > '9') return invalid("malformed Content-Length");
                n = n * 10 + static_cast<std::uint64_t>(c - '0');
            }
            resp.content_length = n;
            continue;   // the handler sends it with the framing it chooses
        } else {
            bool dropped = false;
            for (std::string_view owned : {"Date", "Server", "Connection", "Keep-Alive",
                                           "Transfer-Encoding", "TE", "Trailer", "Upgrade",
                                           "Proxy-Connection"})
                dropped = dropped || iequals(name, owned);
            if (dropped) continue;
        }
        resp.fields.emplace_back(std::string(name), std::string(value));
    }
    // RFC 3875 6.2: every response form has Content-Type, Location or Status.
    if (!has_status && !has_type && !resp.location)
        return invalid("no Content-Type, Location or Status");
    if (resp.location && !has_status) {
        if (resp.location->front() == '/') {
            // 6.2.2 local-redir-response: the server answers the local URI itself.
            resp.kind = CgiResponse::Kind::local_redirect;
        } else {
            // 6.2.3 client-redir-response: 302 Found.
            resp.kind = CgiResponse::Kind::client_redirect;
            resp.status = 302;
        }
    }
    result.state = HeaderBlockResult::State::done;
    return result;
}

// --- stderr ---------------------------------------------------------------------

LineSplitter::LineSplitter(Sink sink, std::size_t max_line, std::size_t max_lines)
    : sink_(std::move(sink)), max_line_(max_line), max_lines_(max_lines) {}

void LineSplitter::emit() {
    if (!line_.empty() && line_.back() == '\r') line_.pop_back();
    if (!stopped_) {
        if (lines_ < max_lines_) {
            sink_(line_);
            ++lines_;
        } else {
            sink_("(further stderr output dropped)");
            stopped_ = true;
        }
    }
    line_.clear();
    overlong_ = false;
}

void LineSplitter::feed(std::string_view data) {
    while (!data.empty()) {
        std::size_t nl = data.find('\n');
        std::string_view part = data.substr(0, nl);
        if (!overlong_ && !stopped_) {
            std::size_t room = max_line_ - line_.size();
            line_.append(part.substr(0, room));
            if (part.size() > room) overlong_ = true;
        }
        if (nl == std::string_view::npos) return;
        emit();
        data.remove_prefix(nl + 1);
    }
}

void LineSplitter::finish() {
    if (!line_.empty() || overlong_) emit();
}

}  // namespace sockhost::plugins::cgi
