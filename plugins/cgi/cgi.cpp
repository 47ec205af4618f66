// SPDX-License-Identifier: MIT
// CGIHTTPRequestHandler and the cgi option handling.
#include "cgi.hpp"

#include <poll.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <utility>

namespace sockhost::plugins::cgi {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using files::UrlPath;

// --- options -------------------------------------------------------------------

CgiConfig CgiConfig::from_options(const sdk::Options& options) {
    CgiConfig c;
    c.cgi_directories = options.get_string_list("cgi_directories", c.cgi_directories);
    for (const std::string& dir : c.cgi_directories) {
        std::optional<std::vector<std::string>> segments = parse_cgi_directory(dir);
        if (!segments)
            throw sdk::OptionError("cgi_directories",
                                   "'" + dir + "' is not a URL path below the root (\"/cgi-bin\")");
        c.directory_segments.push_back(std::move(*segments));
    }
    c.cgi_timeout = options.get_double("cgi_timeout", c.cgi_timeout);
    if (!(c.cgi_timeout > 0.0) || c.cgi_timeout > 86400.0)
        throw sdk::OptionError("cgi_timeout", "must be a number of seconds in (0, 86400]");
    c.max_cgi = static_cast<std::size_t>(options.get_int_in("max_cgi", 16, 1, 4096));
    c.cgi_user = options.get_string("cgi_user", c.cgi_user);
    if (c.cgi_user.empty()) throw sdk::OptionError("cgi_user", "must not be empty");
    // Resolved once here (getpwnam_r is not for the child between fork and exec).
    struct passwd pw {};
    struct passwd* found = nullptr;
    std::vector<char> buf(16384);
    if (::getpwnam_r(c.cgi_user.c_str(), &pw, buf.data(), buf.size(), &found) == 0 && found)
        c.user = Credentials{found->pw_uid, found->pw_gid};
    else if (::geteuid() == 0)
        throw sdk::OptionError("cgi_user", "no such user '" + c.cgi_user +
                                               "' (needed: the host runs as root)");
    return c;
}

void validate_options(const sdk::Options& options) {
    // Every file-serving key (http_static's) is a cgi key too.
    sdk::http::validate_http_options(options, files::kOptionKeys, kCgiOptionKeys);
    (void)files::Config::from_options(options);
    (void)CgiConfig::from_options(options);
}

sdk::HandlerFactory make_factory(const sdk::Options& options) {
    auto file_config = std::make_shared<const files::Config>(files::Config::from_options(options));
    auto cgi = std::make_shared<const CgiConfig>(CgiConfig::from_options(options));
    auto limiter = std::make_shared<CgiLimiter>(cgi->max_cgi);
    (void)files::MimeTypes::system();   // load /etc/mime.types before the first request
    return [file_config, cgi, limiter](sdk::Transport t) -> std::unique_ptr<sdk::BaseRequestHandler> {
        if (t != sdk::Transport::stream) return nullptr;
        return std::make_unique<CGIHTTPRequestHandler>(file_config, cgi, limiter);
    };
}

bool CgiLimiter::try_acquire() {
    std::size_t n = running_.load(std::memory_order_relaxed);
    do {
        if (n >= max_) return false;
    } while (!running_.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel));
    return true;
}

void CgiLimiter::release() { running_.fetch_sub(1, std::memory_order_acq_rel); }

// --- CGIHTTPRequestHandler ----------------------------------------------------------

namespace {

/// Releases a CgiLimiter slot on every path out of run_cgi.
class Slot {
public:
    explicit Slot(CgiLimiter& limiter) : limiter_(limiter) {}
    ~Slot() { limiter_.release(); }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

private:
    CgiLimiter& limiter_;
};

constexpr std::size_t kIoChunk = 64 * 1024;

}  // namespace

CGIHTTPRequestHandler::CGIHTTPRequestHandler(std::shared_ptr<const files::Config> file_config,
                                             std::shared_ptr<const CgiConfig> cgi,
                                             std::shared_ptr<CgiLimiter> limiter)
    : SimpleHTTPRequestHandler(std::move(file_config)), cgi_(std::move(cgi)), limiter_(std::move(limiter)) {}

CGIHTTPRequestHandler::~CGIHTTPRequestHandler() = default;


void CGIHTTPRequestHandler::route() {
    const bool head = command == "HEAD";
    bool with_body = true;
    for (int hop = 0;; ++hop) {
        files::TargetResult target = files::parse_target(path, config().show_dotfiles);
        if (target.status != 0) {
            send_error(target.status);
            return;
        }
        std::optional<std::size_t> dir_len =
            match_cgi_directory(target.url.segments, cgi_->directory_segments);
        if (!dir_len) {
            if (command == "GET" || command == "HEAD") {
                serve_path(target.url, head);
            } else {
                // Python: "Can only POST to CGI scripts".
                send_error(501, "Can only " + command + " to CGI scripts");
            }
            return;
        }
        std::optional<std::string> location = run_cgi(target.url, *dir_len, with_body);
        if (!location) return;
        if (hop + 1 >= kMaxLocalRedirects) {
            log(sdk::LogLevel::warning, "cgi: more than " + std::to_string(kMaxLocalRedirects) +
                                            " local redirects for \"" + raw_requestline + "\"");
            send_error(500, "Too many local redirects");
            return;
        }
        // RFC 3875 6.2.2: answer as if the client had asked for the local URI
        // (with GET: the body, if any, was for the first script).
        path = std::move(*location);
        if (!head) command = "GET";
        with_body = false;
    }
}

std::optional<std::string> CGIHTTPRequestHandler::run_cgi(const UrlPath& url, std::size_t dir_len,
                                                          bool with_body) {
    const files::Config& file_config = config();
    ScriptLocation loc = locate_script(file_config.directory, url.segments, dir_len,
                                       [](const fs::path& p, struct stat& st) {
                                           return ::stat(p.c_str(), &st) == 0 ? 0 : errno;
                                       });
    if (loc.status == 404) {
        send_error(404, "No such CGI script");
        return std::nullopt;
    }
    if (loc.status != 0) {
        send_error(loc.status, "CGI script is not a plain file");
        return std::nullopt;
    }
    std::vector<std::string> script_segments(url.segments.begin(),
                                             url.segments.begin() + static_cast<std::ptrdiff_t>(loc.script_len));
    fs::path script = files::join_segments(file_config.directory, script_segments);
    // The same containment and symlink policy as files (open_path), on the script.
    files::OpenFile file;
    if (int err = open_path(script, file); err != 0) {
        send_errno(err);
        return std::nullopt;
    }
    if (!file.is_regular()) {
        send_error(403, "CGI script is not a plain file");
        return std::nullopt;
    }
    const bool root = ::geteuid() == 0;
    if ((file.stat().st_mode & 0111) == 0 || (!root && ::access(script.c_str(), X_OK) != 0)) {
        send_error(403, "CGI script is not executable");
        return std::nullopt;
    }
    std::string script_name = join_url(url.segments, 0, loc.script_len);
    if (root && !cgi_->user) {
        // Fail closed: never run a script as root because cgi_user vanished.
        log(sdk::LogLevel::error, "cgi: " + script_name + ": cgi_user '" + cgi_->cgi_user +
                                      "' does not exist; not running scripts as root");
        send_error(500, "CGI user unavailable");
        return std::nullopt;
    }

    if (!limiter_->try_acquire()) {
        log(sdk::LogLevel::warning, "cgi: " + script_name + ": max_cgi (" +
                                        std::to_string(cgi_->max_cgi) + ") scripts already running");
        send_error(503, "Too many CGI scripts running");
        return std::nullopt;
    }
    Slot slot(*limiter_);

    // RFC 3875 4.1: the meta-variables.
    CgiRequest req;
    req.method = command;
    req.protocol = request_version;
    req.script_name = script_name;
    req.path_info = path_info_for(url.segments, loc.script_len, url.trailing_slash);
    req.path_translated = file_config.directory.string() + req.path_info;
    req.query = url.query;
    req.remote_addr = client_address().is_ip() ? client_address().host() : std::string();
    std::string bound_host = server().server_address().is_ip() ? server().server_address().host() : "localhost";
    req.server_name = server_name_for(headers.get("Host"), bound_host);
    req.server_port = std::to_string(server().server_address().port());
    req.server_software = server_version;
    req.with_body = with_body;
    req.content_length = content_length();

    SpawnSpec spec;
    spec.program = script.string();
    spec.argv = {spec.program};
    spec.envp = build_environment(req, headers);
    spec.working_dir = script.parent_path().string();
    if (root) spec.drop_to = cgi_->user;

    int exec_error = 0;
    CgiProcess proc = CgiProcess::spawn(spec, exec_error);
    if (exec_error != 0) {
        log(sdk::LogLevel::warning,
            "cgi: " + script_name + ": cannot execute: " + std::strerror(exec_error));
        if (exec_error == EACCES || exec_error == EPERM)
            send_error(403, "CGI script is not executable");
        else
            send_error(502, "CGI script could not be started");
        return std::nullopt;
    }
    return pump(proc, script_name, with_body && has_body());
}

std::optional<std::string> CGIHTTPRequestHandler::pump(CgiProcess& proc, const std::string& script_name,
                                                       bool with_body) {
    const auto deadline =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(cgi_->cgi_timeout));
    const std::string tag = "cgi: " + script_name + ": ";
    LineSplitter stderr_lines([this, &tag](std::string_view line) {
        log(sdk::LogLevel::warning, tag + std::string(line));
    });

    // Output side.
    std::string head;                 // stdout until the header block is complete
    bool head_done = false;
    bool head_sent = false;
    std::optional<std::uint64_t> remaining;   // the script's Content-Length left to send
    bool overrun_logged = false;
    std::optional<std::string> redirect;      // a local redirect: output discarded
    std::string invalid;                      // why the header block was refused

    // Input side: request body -> stdin.
    bool feed = with_body;
    const std::optional<std::uint64_t> declared = content_length();
    std::uint64_t fed = 0;   // body bytes read from the client so far
    bool first_read_done = false;
    std::string pending;
    std::size_t pending_pos = 0;
    if (!feed) proc.close_stdin();
    const int sock = connection().fd();

    std::string buf(kIoChunk, '\0');
    auto write_out = [&](std::string_view data) {
        if (data.empty()) return;
        if (remaining) {
            if (data.size() > *remaining) {
                if (!overrun_logged)
                    log(sdk::LogLevel::warning, tag + "more output than its Content-Length; cut");
                overrun_logged = true;
                data = data.substr(0, static_cast<std::size_t>(*remaining));
            }
            *remaining -= data.size();
            if (data.empty()) return;
        }
        write_body(data);   // one chunk each when the response is chunked
    };
    auto on_stdout = [&](std::string_view data) {
        if (redirect || !invalid.empty()) return;   // discarding
        if (head_done) {
            write_out(data);
            return;
        }
        head.append(data);
        HeaderBlockResult r = parse_header_block(head);
        if (r.state == HeaderBlockResult::State::need_more) return;
        if (r.state == HeaderBlockResult::State::invalid) {
            invalid = r.error;
            return;
        }
        head_done = true;
        CgiResponse& resp = r.response;
        if (resp.kind == CgiResponse::Kind::local_redirect) {
            redirect = *resp.location;
            return;
        }
        send_response(resp.status, resp.reason);
        for (const auto& [name, value] : resp.fields) send_header(name, value);
        const bool no_content = resp.status == 204 || resp.status == 304;
        if (resp.content_length && resp.status != 204) {
            send_header("Content-Length", std::to_string(*resp.content_length));
            remaining = *resp.content_length;
        } else if (!no_content && command != "HEAD" && request_version == "HTTP/1.1") {
            send_header("Transfer-Encoding", "chunked");   // RFC 9112 7.1: write_body frames it
        }
        // Otherwise (HTTP/1.0) the body ends when the connection closes (RFC 9112 6.3).
        end_headers();
        head_sent = true;
        std::string rest = head.substr(r.consumed);
        head.clear();
        head.shrink_to_fit();
        write_out(rest);
    };
    // Reads once from a non-blocking pipe: false at EOF (the caller closes it).
    auto drain = [&buf](int fd, auto&& sink) -> bool {
        ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n > 0) {
            sink(std::string_view(buf.data(), static_cast<std::size_t>(n)));
            return true;
        }
        return n < 0 && (errno == EAGAIN || errno == EINTR);
    };
    auto refill = [&]() {
        // Streams the body: at most kIoChunk bytes held at a time.
        pending.resize(kIoChunk);
        std::size_t n = read_body_some(pending.data(), pending.size());
        pending.resize(n);
        pending_pos = 0;
        fed += n;
        if (n == 0) {
            feed = false;
            proc.close_stdin();
        }
    };

    bool timed_out = false;
    for (;;) {
        if (!invalid.empty()) break;
        const bool out_open = proc.stdout_fd() >= 0;
        const bool err_open = proc.stderr_fd() >= 0;
        if (!out_open && !err_open && proc.try_reap()) break;
        if (proc.reaped() && proc.stdin_fd() >= 0) {
            feed = false;   // nobody left to read it
            proc.close_stdin();
        }
        auto now = Clock::now();
        if (now >= deadline) {
            timed_out = true;
            break;
        }
        // Body bytes already buffered need no wait on the socket; neither
        // does learning that a Content-Length body is complete (EOF to stdin).
        // The first read is unconditional: a client that sent "Expect:
        // 100-continue" sends nothing until read_body_some invites it (RFC
        // 9110 10.1.1); that read waits at most body_timeout.
        if (feed && proc.stdin_fd() >= 0 && pending_pos == pending.size() &&
            (sock < 0 || !rfile().buffered().empty() || (declared && fed >= *declared) || !first_read_done)) {
            first_read_done = true;
            refill();
            continue;
        }

        pollfd fds[5];
        nfds_t nfds = 0;
        int i_out = -1, i_err = -1, i_in = -1, i_sock = -1, i_pid = -1;
        if (out_open) fds[i_out = static_cast<int>(nfds++)] = {proc.stdout_fd(), POLLIN, 0};
        if (err_open) fds[i_err = static_cast<int>(nfds++)] = {proc.stderr_fd(), POLLIN, 0};
        if (proc.stdin_fd() >= 0 && pending_pos < pending.size())
            fds[i_in = static_cast<int>(nfds++)] = {proc.stdin_fd(), POLLOUT, 0};
        else if (feed && proc.stdin_fd() >= 0 && sock >= 0)
            fds[i_sock = static_cast<int>(nfds++)] = {sock, POLLIN, 0};
        if (!out_open && !err_open && proc.pid_fd() >= 0)
            fds[i_pid = static_cast<int>(nfds++)] = {proc.pid_fd(), POLLIN, 0};

        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1;
        int wait_ms = static_cast<int>(std::min<long long>(left, 60'000));
        if (!out_open && !err_open && proc.pid_fd() < 0) wait_ms = std::min(wait_ms, 10);   // no pidfd: poll
        int ready = 0;
        if (wfile().pending() > 0) {
            // Output waiting in wfile: send it before sleeping, not before
            // reading what is already there (fewer, larger sends).
            ready = ::poll(fds, nfds, 0);
            if (ready == 0) {
                wfile().flush();
                ready = ::poll(fds, nfds, wait_ms);
            }
        } else {
            ready = ::poll(fds, nfds, wait_ms);
        }
        if (ready < 0) {
            if (errno == EINTR) continue;
            throw std::system_error(errno, std::generic_category(), "poll");
        }
        if (ready == 0) {
            if (!out_open && !err_open) proc.try_reap();
            continue;
        }
        if (i_out >= 0 && fds[i_out].revents != 0 && !drain(proc.stdout_fd(), on_stdout)) proc.close_stdout();
        if (i_err >= 0 && fds[i_err].revents != 0 &&
            !drain(proc.stderr_fd(), [&](std::string_view d) { stderr_lines.feed(d); })) {
            proc.close_stderr();
            stderr_lines.finish();
        }
        if (i_in >= 0 && fds[i_in].revents != 0) {
            ssize_t n = ::write(proc.stdin_fd(), pending.data() + pending_pos, pending.size() - pending_pos);
            if (n > 0) {
                pending_pos += static_cast<std::size_t>(n);
            } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
                // EPIPE: the script closed stdin. The rest of the body is not
                // its business; the base drains or closes.
                feed = false;
                pending.clear();
                pending_pos = 0;
                proc.close_stdin();
            }
        }
        if (i_sock >= 0 && fds[i_sock].revents != 0) refill();
        if (i_pid >= 0 && fds[i_pid].revents != 0) proc.try_reap();
    }

    if (timed_out) {
        proc.kill_and_reap();
        log(sdk::LogLevel::warning, tag + "timed out after " + std::to_string(cgi_->cgi_timeout) +
                                        " s; process group killed");
        if (!head_sent) {
            send_error(504, "CGI script timed out");
        } else {
            abandon_response();   // a truncated body: only a close can say so
        }
        return std::nullopt;
    }
    if (!invalid.empty()) {
        proc.kill_and_reap();
        log(sdk::LogLevel::warning, tag + "invalid header block (" + invalid + ")");
        send_error(502, "CGI script sent an invalid response");
        return std::nullopt;
    }
    const int status = proc.wait_status();
    const bool failed = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (!head_done) {
        log(sdk::LogLevel::warning, tag + (head.empty() ? "no output" : "no complete header block") +
                                        " (" + describe_wait_status(status) + ")");
        send_error(502, "CGI script sent no valid response");
        return std::nullopt;
    }
    if (failed) log(sdk::LogLevel::warning, tag + describe_wait_status(status));
    if (redirect) return redirect;
    if (remaining && *remaining > 0) {
        log(sdk::LogLevel::warning, tag + "less output than its Content-Length");
        close_connection = true;
    }
    return std::nullopt;
}

}  // namespace sockhost::plugins::cgi
