// SPDX-License-Identifier: MIT
// CGIHTTPRequestHandler and the cgi option handling.
#include "cgi.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <system_error>
#include <utility>

#include <sockhost/sdk/http/status.hpp>

#include "cgi_body.hpp"
#include "cgi_exchange.hpp"

namespace sockhost::plugins::cgi {

namespace fs = std::filesystem;
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
    c.cgi_queue_timeout = options.get_double("cgi_queue_timeout", c.cgi_queue_timeout);
    if (!(c.cgi_queue_timeout >= 0.0) || c.cgi_queue_timeout > 3600.0)
        throw sdk::OptionError("cgi_queue_timeout", "must be a number of seconds in [0, 3600]");
    c.body_buffer_size =
        static_cast<std::size_t>(options.get_int_in("body_buffer_size", 16 * 1024, 0, std::int64_t{1} << 30));
    if (options.contains("body_temp_dir")) {
        std::string dir = options.get_string("body_temp_dir");
        struct stat st {};
        if (dir.empty() || ::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
            throw sdk::OptionError("body_temp_dir", "'" + dir + "' is not a directory");
        c.body_temp_dir = fs::absolute(dir);
    } else {
        c.body_temp_dir = default_temp_dir();
    }
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

bool CgiLimiter::acquire(Clock::duration wait) {
    std::unique_lock lock(mutex_);
    if (queue_.empty() && running_ < max_) {
        ++running_;
        return true;
    }
    if (wait <= Clock::duration::zero()) return false;
    // In line behind those that came first (a release wakes everyone; the
    // oldest takes the slot).
    const std::uint64_t ticket = next_ticket_++;
    queue_.push_back(ticket);
    const bool got = freed_.wait_for(lock, wait, [&] { return running_ < max_ && queue_.front() == ticket; });
    queue_.erase(std::find(queue_.begin(), queue_.end(), ticket));
    if (got) ++running_;
    // The next in line may be able to go now (two slots freed at once, or
    // the one ahead of it gave up).
    if (!queue_.empty() && running_ < max_) freed_.notify_all();
    return got;
}

void CgiLimiter::release() {
    {
        std::lock_guard lock(mutex_);
        --running_;
    }
    freed_.notify_all();
}

std::size_t CgiLimiter::running() const {
    std::lock_guard lock(mutex_);
    return running_;
}

std::size_t CgiLimiter::waiting() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
}

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

    // RFC 3875 4.1.2: a script is told its body's length. A chunked body
    // has none until its last chunk, so it is read whole first.
    std::optional<SpooledBody> spooled;
    if (with_body && has_body() && !content_length()) {
        spooled = spool_body(script_name);
        if (!spooled) return std::nullopt;   // answered
    }

    // Beyond max_cgi, wait for a slot (bounded), then give up with 503.
    const auto queue_wait = std::chrono::duration_cast<CgiLimiter::Clock::duration>(
        std::chrono::duration<double>(cgi_->cgi_queue_timeout));
    if (!limiter_->acquire(queue_wait)) {
        log(sdk::LogLevel::warning, "cgi: " + script_name + ": no free slot (max_cgi " +
                                        std::to_string(cgi_->max_cgi) + ") within cgi_queue_timeout");
        send_unavailable("Too many CGI scripts running");
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
    req.content_length = spooled ? std::optional<std::uint64_t>(spooled->size()) : content_length();

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
    return CgiExchange(*this, proc, script_name, cgi_->cgi_timeout, with_body && has_body(),
                       spooled ? &*spooled : nullptr)
        .run();
}

void CGIHTTPRequestHandler::send_unavailable(std::string_view message) {
    const int retry_after = std::max(1, static_cast<int>(std::ceil(cgi_->cgi_queue_timeout)));
    const std::string page = sdk::http::error_page(503, message, sdk::http::status_explanation(503));
    log_error("code 503, message " + std::string(message));
    send_response(503, message);
    send_header("Retry-After", std::to_string(retry_after));
    send_header("Content-Type", sdk::http::kErrorPageContentType);
    send_header("Content-Length", std::to_string(page.size()));
    end_headers();
    write_body(page);   // dropped for HEAD
}

std::optional<SpooledBody> CGIHTTPRequestHandler::spool_body(const std::string& script_name) {
    // As nginx and lighttpd do: de-chunked through the HTTP layer (which
    // answers 413 past max_body_size, 400 for bad chunks, 408 for a stall),
    // kept in memory up to body_buffer_size, then in a temporary file.
    SpooledBody body(cgi_->body_buffer_size, cgi_->body_temp_dir);
    std::string buf(64 * 1024, '\0');
    while (std::size_t n = read_body_some(buf.data(), buf.size())) {
        try {
            body.append(std::string_view(buf.data(), n));
        } catch (const std::system_error& e) {   // the temporary file: a full disk, say
            log(sdk::LogLevel::error, "cgi: " + script_name + ": cannot buffer the request body: " + e.what());
            send_error(500, "Cannot buffer the request body");
            return std::nullopt;   // the layer drains the rest or closes
        }
    }
    return body;
}

}  // namespace sockhost::plugins::cgi
