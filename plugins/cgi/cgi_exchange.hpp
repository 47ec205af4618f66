// SPDX-License-Identifier: MIT
// CgiExchange: one run of a CGI script, from its start to its reaping
// (lighttpd mod_cgi's handler_ctx): the request body goes to the script's
// stdin as it arrives, its stdout becomes the response, its stderr the log.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <sockhost/sdk/http/base_http_request_handler.hpp>

#include "cgi_body.hpp"
#include "cgi_process.hpp"
#include "cgi_protocol.hpp"

namespace sockhost::plugins::cgi {

/// One script run for the request `http` is answering, on the handler's
/// thread. The client is read and written only through the HTTP layer:
/// body bytes come from read_body_nowait() (read_body_some() where it must
/// wait) or from a body spooled before, the connection's fd is polled only
/// as a hint that more may have arrived and to learn that the client is
/// gone, and the response goes out with send_response / write_body (which
/// frames chunks) / abandon_response. So any ByteStream works, a TLS one
/// that holds decrypted bytes the socket no longer shows included.
class CgiExchange {
public:
    using Clock = std::chrono::steady_clock;

    /// `http` answers the request and `process` is the script, both
    /// outliving the exchange. `timeout`: cgi_timeout in seconds, from now.
    /// `with_body`: the request body goes to stdin (else stdin is closed):
    /// from `spooled` when given (a body read whole before, which outlives
    /// the exchange), else from the HTTP layer as it arrives.
    CgiExchange(sdk::http::BaseHTTPRequestHandler& http, CgiProcess& process, std::string_view script_name,
                double timeout, bool with_body, const SpooledBody* spooled = nullptr);

    /// How a run ended.
    enum class End {
        exited,        // the script is reaped
        timed_out,     // cgi_timeout passed
        client_gone,   // the client closed (or reset) the connection
    };

    /// Runs the script to its end and answers: its response (the body cut
    /// at its Content-Length), 502 for no valid header block, 504 when it
    /// timed out before its head (after it: a cut connection), nothing
    /// when the client went away. A local redirect (RFC 3875 6.2.2) is not
    /// answered: its Location is returned for the caller to serve. Throws
    /// sdk::http::RequestAborted when the client's body fails (the HTTP
    /// layer has answered it then).
    std::optional<std::string> run();

    // --- The steps run() is made of, public to be driven one by one ----
    /// Bytes of the script's stdout: the header block until it is complete
    /// (then the response head goes out), then the body.
    void take_stdout(std::string_view data);
    /// The end, once the script is reaped, or it timed out or its client
    /// is gone (the script's process group is then killed): answers what is
    /// left to answer; a local redirect's Location, or nullopt.
    std::optional<std::string> finish(End end);

private:
    /// Polls the pipes and the client and moves bytes until the script is
    /// reaped, the deadline passes or the client is gone.
    End pump();
    /// Whether poll's `revents` for the client's fd say it is gone: a reset
    /// or a full close (POLLHUP, POLLERR), or a FIN once the layer has read
    /// the whole body (nothing more may come: nginx's broken-connection
    /// check). A FIN before that is the layer's to find (its read ends).
    bool client_gone(short revents) const;
    /// The body still comes from the HTTP layer, which has not read all of it.
    bool layer_body_pending() const;
    /// The body still goes to stdin and nothing read is left to write.
    bool wants_body() const;
    /// Reads body bytes for stdin: the next piece of the spooled body, or
    /// from the layer; `wait`: read_body_some (bounded by body_timeout),
    /// else read_body_nowait. 0 bytes (the end) closes stdin.
    void read_body(bool wait);
    /// Writes what it can of the read body bytes to the script's stdin.
    void write_stdin();
    /// No more body for the script: stdin closed, the rest left to the
    /// layer (drained or the connection closed).
    void stop_feeding();
    /// One read from a non-blocking pipe into `take`: false at its end.
    bool read_pipe(int fd, void (CgiExchange::*take)(std::string_view));
    void take_stderr(std::string_view data);
    /// The response head from the script's header block.
    void send_head(const CgiResponse& response);
    /// Response body bytes, cut at the script's Content-Length.
    void write_out(std::string_view data);
    void log(std::string_view message) const;

    sdk::http::BaseHTTPRequestHandler& http_;
    CgiProcess& process_;
    const std::string tag_;   // "cgi: /cgi-bin/x: "
    const double timeout_;
    const Clock::time_point deadline_;
    LineSplitter stderr_lines_;
    std::string buf_;         // one pipe read

    // Output side: stdout -> the response.
    std::string head_;                         // stdout until the header block is complete
    bool head_done_ = false;                   // the header block is parsed
    bool head_sent_ = false;                   // ... and the response head went out
    std::optional<std::string> invalid_;       // why the header block was refused
    std::optional<std::string> redirect_;      // a local redirect: output discarded
    std::optional<std::uint64_t> remaining_;   // the script's Content-Length left to send
    bool overrun_logged_ = false;

    // Input side: the request body -> stdin.
    bool feeding_;                             // body bytes still go to stdin
    const SpooledBody* spooled_;               // the body read whole before, or null
    std::uint64_t spooled_pos_ = 0;            // ... and how much of it was read for stdin
    std::string pending_;                      // read from the client, not yet written
    std::size_t pending_pos_ = 0;
    /// Set while read_body_nowait() has nothing: until then the client's fd
    /// is polled as a wake-up hint; after it the wait is read_body_some()'s.
    std::optional<Clock::time_point> body_wait_until_;
};

}  // namespace sockhost::plugins::cgi
