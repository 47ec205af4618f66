// SPDX-License-Identifier: MIT
// CgiExchange: see cgi_exchange.hpp.
#include "cgi_exchange.hpp"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace sockhost::plugins::cgi {

using Clock = CgiExchange::Clock;

namespace {

/// Bytes moved per pipe read and per body read: at most this much of the
/// request body is held at a time.
constexpr std::size_t kIoChunk = 64 * 1024;

Clock::duration seconds(double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

}  // namespace

CgiExchange::CgiExchange(sdk::http::BaseHTTPRequestHandler& http, CgiProcess& process,
                         std::string_view script_name, double timeout, bool with_body,
                         const SpooledBody* spooled)
    : http_(http),
      process_(process),
      tag_("cgi: " + std::string(script_name) + ": "),
      timeout_(timeout),
      deadline_(Clock::now() + seconds(timeout)),
      stderr_lines_([this](std::string_view line) { log(line); }),
      buf_(kIoChunk, '\0'),
      feeding_(with_body),
      spooled_(spooled) {
    if (!feeding_) process_.close_stdin();
}

std::optional<std::string> CgiExchange::run() { return finish(pump()); }

// --- The loop ----------------------------------------------------------------

bool CgiExchange::layer_body_pending() const { return feeding_ && !spooled_; }

bool CgiExchange::client_gone(short revents) const {
    if (revents & (POLLHUP | POLLERR)) return true;
    return (revents & POLLRDHUP) && !layer_body_pending();
}

CgiExchange::End CgiExchange::pump() {
    const int client = http_.connection().fd();
    for (;;) {
        if (invalid_) return End::exited;
        const bool out_open = process_.stdout_fd() >= 0;
        const bool err_open = process_.stderr_fd() >= 0;
        if (!out_open && !err_open && process_.try_reap()) return End::exited;
        if (process_.reaped() && process_.stdin_fd() >= 0) stop_feeding();   // nobody left to read it
        const auto now = Clock::now();
        if (now >= deadline_) return End::timed_out;
        if (wants_body()) {
            // Ask the layer first (it may hold bytes the socket no longer
            // shows); wait in poll() below while it has none, and hand the
            // wait to read_body_some() once body_timeout has passed, or when
            // there is no fd to watch.
            if (!body_wait_until_) {
                read_body(false);
                continue;
            }
            if (client < 0 || now >= *body_wait_until_) {
                read_body(true);
                continue;
            }
        }

        pollfd fds[5];
        nfds_t nfds = 0;
        int i_out = -1, i_err = -1, i_in = -1, i_client = -1, i_pid = -1;
        if (out_open) fds[i_out = static_cast<int>(nfds++)] = {process_.stdout_fd(), POLLIN, 0};
        if (err_open) fds[i_err = static_cast<int>(nfds++)] = {process_.stderr_fd(), POLLIN, 0};
        const bool body_hint = wants_body();   // more body may have arrived: ask the layer
        if (process_.stdin_fd() >= 0 && pending_pos_ < pending_.size())
            fds[i_in = static_cast<int>(nfds++)] = {process_.stdin_fd(), POLLOUT, 0};
        // The client is always watched: a script outlives no client. While
        // the layer still reads the body, its FIN is the layer's to find.
        if (client >= 0) {
            short events = body_hint ? POLLIN : layer_body_pending() ? 0 : POLLRDHUP;
            fds[i_client = static_cast<int>(nfds++)] = {client, events, 0};
        }
        if (!out_open && !err_open && process_.pid_fd() >= 0)
            fds[i_pid = static_cast<int>(nfds++)] = {process_.pid_fd(), POLLIN, 0};

        auto until = deadline_;
        if (body_hint) until = std::min(until, *body_wait_until_);
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count() + 1;
        int wait_ms = static_cast<int>(std::min<long long>(left, 60'000));
        if (!out_open && !err_open && process_.pid_fd() < 0) wait_ms = std::min(wait_ms, 10);   // no pidfd: poll
        int ready = 0;
        if (http_.wfile().pending() > 0) {
            // Output waiting in wfile: send it before sleeping, not before
            // reading what is already there (fewer, larger sends).
            ready = ::poll(fds, nfds, 0);
            if (ready == 0) {
                http_.wfile().flush();
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
            if (!out_open && !err_open) process_.try_reap();
            continue;
        }
        if (i_out >= 0 && fds[i_out].revents != 0 &&
            !read_pipe(process_.stdout_fd(), &CgiExchange::take_stdout))
            process_.close_stdout();
        if (i_err >= 0 && fds[i_err].revents != 0 &&
            !read_pipe(process_.stderr_fd(), &CgiExchange::take_stderr)) {
            process_.close_stderr();
            stderr_lines_.finish();
        }
        if (i_client >= 0 && client_gone(fds[i_client].revents)) return End::client_gone;
        if (i_in >= 0 && fds[i_in].revents != 0) write_stdin();
        if (body_hint && fds[i_client].revents != 0) body_wait_until_.reset();   // ask the layer again
        if (i_pid >= 0 && fds[i_pid].revents != 0) process_.try_reap();
    }
}

bool CgiExchange::read_pipe(int fd, void (CgiExchange::*take)(std::string_view)) {
    ssize_t n = ::read(fd, buf_.data(), buf_.size());
    if (n > 0) {
        (this->*take)(std::string_view(buf_.data(), static_cast<std::size_t>(n)));
        return true;
    }
    return n < 0 && (errno == EAGAIN || errno == EINTR);
}

// --- Input: the request body -> stdin ------------------------------------------

bool CgiExchange::wants_body() const {
    return feeding_ && process_.stdin_fd() >= 0 && pending_pos_ == pending_.size();
}

void CgiExchange::read_body(bool wait) {
    pending_.resize(kIoChunk);
    pending_pos_ = 0;
    if (spooled_) {
        const std::size_t got = spooled_->read_at(spooled_pos_, pending_.data(), pending_.size());
        spooled_pos_ += got;
        pending_.resize(got);
        if (got == 0) stop_feeding();   // all of it: EOF after CONTENT_LENGTH bytes
        return;
    }
    std::optional<std::size_t> n;
    if (wait)
        n = http_.read_body_some(pending_.data(), pending_.size());
    else
        n = http_.read_body_nowait(pending_.data(), pending_.size());
    if (!n) {
        pending_.clear();
        body_wait_until_ = Clock::now() + seconds(http_.limits().body_timeout);
        return;
    }
    pending_.resize(*n);
    body_wait_until_.reset();
    if (*n == 0) stop_feeding();   // the whole body went to the script: EOF on its stdin (RFC 3875 4.2)
}

void CgiExchange::write_stdin() {
    ssize_t n = ::write(process_.stdin_fd(), pending_.data() + pending_pos_, pending_.size() - pending_pos_);
    if (n > 0) {
        pending_pos_ += static_cast<std::size_t>(n);
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        // EPIPE: the script closed stdin. The rest of the body is not its
        // business; the layer drains or closes.
        stop_feeding();
    }
}

void CgiExchange::stop_feeding() {
    feeding_ = false;
    pending_.clear();
    pending_pos_ = 0;
    body_wait_until_.reset();
    process_.close_stdin();
}

// --- Output: stdout -> the response, stderr -> the log -------------------------

void CgiExchange::take_stdout(std::string_view data) {
    if (redirect_ || invalid_) return;   // discarding
    if (head_done_) {
        write_out(data);
        return;
    }
    head_.append(data);
    HeaderBlockResult r = parse_header_block(head_);
    if (r.state == HeaderBlockResult::State::need_more) return;
    if (r.state == HeaderBlockResult::State::invalid) {
        invalid_ = std::move(r.error);
        return;
    }
    head_done_ = true;
    if (r.response.kind == CgiResponse::Kind::local_redirect) {
        redirect_ = std::move(r.response.location);
        return;
    }
    send_head(r.response);
    std::string rest = head_.substr(r.consumed);
    head_.clear();
    head_.shrink_to_fit();
    write_out(rest);
}

void CgiExchange::send_head(const CgiResponse& resp) {
    http_.send_response(resp.status, resp.reason);
    for (const auto& [name, value] : resp.fields) http_.send_header(name, value);
    const bool no_content = resp.status == 204 || resp.status == 304;
    if (resp.content_length && resp.status != 204) {
        http_.send_header("Content-Length", std::to_string(*resp.content_length));
        remaining_ = *resp.content_length;
    } else if (!no_content && http_.command != "HEAD" && http_.request_version == "HTTP/1.1") {
        http_.send_header("Transfer-Encoding", "chunked");   // RFC 9112 7.1: write_body frames it
    }
    // Otherwise (HTTP/1.0) the body ends when the connection closes (RFC 9112 6.3).
    http_.end_headers();
    head_sent_ = true;
}

void CgiExchange::write_out(std::string_view data) {
    if (data.empty()) return;
    if (remaining_) {
        if (data.size() > *remaining_) {
            if (!overrun_logged_) log("more output than its Content-Length; cut");
            overrun_logged_ = true;
            data = data.substr(0, static_cast<std::size_t>(*remaining_));
        }
        *remaining_ -= data.size();
        if (data.empty()) return;
    }
    http_.write_body(data);   // one chunk each when the response is chunked
}

void CgiExchange::take_stderr(std::string_view data) { stderr_lines_.feed(data); }

void CgiExchange::log(std::string_view message) const {
    http_.server().log(sdk::LogLevel::warning, tag_ + std::string(message));
}

// --- The end -----------------------------------------------------------------------

std::optional<std::string> CgiExchange::finish(End end) {
    if (end == End::client_gone) {
        // Nobody is left to answer: the script's output has nowhere to go.
        // SIGKILL at once, to the whole group (its children too), as at
        // cgi_timeout: a SIGTERM and a grace period would keep this thread
        // (a pool thread under event) waiting for a script that may ignore
        // SIGTERM or take its time, and the host would then kill it anyway.
        process_.kill_and_reap();
        http_.server().log(sdk::LogLevel::info, tag_ + "client closed the connection; process group killed");
        http_.abandon_response();
        return std::nullopt;
    }
    if (end == End::timed_out) {
        process_.kill_and_reap();
        log("timed out after " + std::to_string(timeout_) + " s; process group killed");
        if (!head_sent_)
            http_.send_error(504, "CGI script timed out");
        else
            http_.abandon_response();   // a truncated body: only a close can say so
        return std::nullopt;
    }
    if (invalid_) {
        process_.kill_and_reap();
        log("invalid header block (" + *invalid_ + ")");
        http_.send_error(502, "CGI script sent an invalid response");
        return std::nullopt;
    }
    const int status = process_.wait_status();
    if (!head_done_) {
        log(std::string(head_.empty() ? "no output" : "no complete header block") + " (" +
            describe_wait_status(status) + ")");
        http_.send_error(502, "CGI script sent no valid response");
        return std::nullopt;
    }
    if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) log(describe_wait_status(status));
    if (redirect_) return redirect_;
    if (remaining_ && *remaining_ > 0) {
        log("less output than its Content-Length");
        http_.close_connection = true;
    }
    return std::nullopt;
}

}  // namespace sockhost::plugins::cgi
