// SPDX-License-Identifier: MIT
#include "host/servers/base_server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <vector>

#include <sockhost/sdk/log_text.hpp>

#include "host/log.hpp"
#include "host/servers/lingering_close.hpp"
#include "host/streams/socket_stream.hpp"
#include "host/concurrency/concurrency.hpp"

namespace sockhost::host {

using Clock = std::chrono::steady_clock;

BaseServer::BaseServer(ServerConfig config, sdk::HandlerFactory factory, sdk::Protocol protocol,
                       std::unique_ptr<ConcurrencyModel> model)
    : config_(std::move(config)), factory_(std::move(factory)), protocol_(protocol), model_(std::move(model)) {
    wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake_) throw std::system_error(errno, std::generic_category(), "eventfd");
}

BaseServer::~BaseServer() = default;

void BaseServer::renew_wakeup() {
    wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake_) throw std::system_error(errno, std::generic_category(), "eventfd");
}

sdk::Transport BaseServer::transport() const {
    return config_.listen.is_stream() ? sdk::Transport::stream : sdk::Transport::datagram;
}

std::string_view BaseServer::model_name() const { return model_->name(); }

std::chrono::milliseconds BaseServer::io_timeout() const {
    return std::chrono::milliseconds(static_cast<long long>(config_.io_timeout * 1000.0));
}

void BaseServer::log(sdk::LogLevel level, std::string_view message) const {
    Log::write(level, config_.name, message);
}

void BaseServer::log_access(const sdk::AccessRecord& record) const {
    if (!access_log_enabled()) return;
    // The answer may not all be out yet (queued for a slow reader, or still
    // in the handler's buffer): its connection's stream writes the record
    // when it is, with the bytes actually sent.
    if (HostStream* stream = HostStream::current()) {
        stream->log_when_sent(record, plugin_abi_minor_ >= 1 ? record.unflushed_bytes : 0, *this);
        return;
    }
    write_access(record);
}

void BaseServer::write_access(const sdk::AccessRecord& record) const {
    Log::write_access(config_.name, sdk::format_access_line(record, Log::access_format(), config_.name));
}

bool BaseServer::access_log_enabled() const { return Log::access_enabled(); }

void BaseServer::open() {
    server_bind();
    server_activate();
}

void BaseServer::adopt(int fd) {
    socket_.reset(fd);
    // As the sockets this host binds: a loop woken for a connection another
    // process took must find accept() saying EAGAIN, not wait in it. (A
    // service manager passes blocking ones.)
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0 && !(flags & O_NONBLOCK)) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    sdk::SocketAddress bound;
    socklen_t len = sdk::SocketAddress::capacity();
    if (::getsockname(fd, bound.data(), &len) < 0) throw std::system_error(errno, std::generic_category(), "getsockname");
    bound.set_size(len);
    server_address_ = bound;
    remove_socket_file_ = false;
}

void BaseServer::shutdown() {
    stopping_.store(true);
    shutdown_requested_.store(true);
    std::uint64_t one = 1;
    // eventfd write is async-signal-safe and never blocks (EFD_NONBLOCK).
    [[maybe_unused]] auto n = ::write(wake_.get(), &one, sizeof one);
}

void BaseServer::serve_forever() {
    std::vector<pollfd> fds;
    std::vector<int> extra;
    auto last_request = Clock::now();
    model_->serve_started(*this);
    while (!shutdown_requested_.load()) {
        // The model may take the socket (its threads accept or receive), or
        // hand it back for a while (all of them busy).
        const bool model_takes_socket = model_->takes_socket();
        auto now = Clock::now();
        const bool accepting = !model_takes_socket && now >= accept_paused_until_;
        fds.clear();
        fds.push_back({wake_.get(), POLLIN, 0});
        if (accepting) fds.push_back({socket_.get(), POLLIN, 0});
        extra.clear();
        model_->wait_fds(extra);
        for (int fd : extra) fds.push_back({fd, POLLIN, 0});
        const std::size_t first_silent = fds.size();
        for (const Silent& s : silent_) fds.push_back({s.request.connection.get(), POLLIN | POLLRDHUP, 0});

        // Sleep until: a descriptor is ready, the model wants attention, the
        // accept pause ends, or `timeout` expires without a request.
        long long timeout = model_->poll_timeout_ms();
        auto shorten = [&](Clock::duration d) {
            long long ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count() + 1;
            if (ms < 0) ms = 0;
            timeout = timeout < 0 ? ms : std::min(timeout, ms);
        };
        if (!accepting && !model_takes_socket) shorten(accept_paused_until_ - now);
        if (config_.timeout)
            shorten(last_request + std::chrono::milliseconds(static_cast<long long>(*config_.timeout * 1000)) - now);
        for (const Silent& s : silent_) shorten(s.deadline - now);

        int n = ::poll(fds.data(), fds.size(), static_cast<int>(timeout));
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::system_error(errno, std::generic_category(), "poll");
        }
        if (fds[0].revents & POLLIN) {
            std::uint64_t drained;
            [[maybe_unused]] auto r = ::read(wake_.get(), &drained, sizeof drained);
        }
        if (shutdown_requested_.load()) break;
        if (accepting && (fds[1].revents & (POLLIN | POLLERR))) {
            // Take what is ready, a bounded batch so service_actions still runs.
            for (int i = 0; i < 64 && !shutdown_requested_.load(); ++i)
                if (!handle_request_noblock()) break;
            last_request = Clock::now();
        } else if (config_.timeout &&
                   Clock::now() - last_request >=
                       std::chrono::milliseconds(static_cast<long long>(*config_.timeout * 1000))) {
            handle_timeout();
            last_request = Clock::now();
        }
        if (!silent_.empty()) service_silent(fds, first_silent);
        service_actions();
    }
}

void BaseServer::set_client_speaks_first(bool yes) {
    hold_silent_ = yes && transport() == sdk::Transport::stream && !model_->waits_for_first_bytes();
    // TCP: the kernel itself keeps a connection out of accept() until its
    // first bytes, or about io_timeout (Apache's AcceptFilter, nginx's
    // `deferred`). A socket handed over from another generation gets it too.
    if (yes && socket_ && server_address_.is_ip() && transport() == sdk::Transport::stream) {
        const auto ms = io_timeout().count();
        int seconds = ms > 0 ? static_cast<int>(std::min<long long>((ms + 999) / 1000, 600)) : 600;
        ::setsockopt(socket_.get(), IPPROTO_TCP, TCP_DEFER_ACCEPT, &seconds, sizeof seconds);
    }
}

void BaseServer::service_silent(const std::vector<pollfd>& fds, std::size_t first) {
    // fds[first + i] is silent_[i]'s, as the loop built them before poll.
    const auto now = Clock::now();
    std::vector<Silent> still;
    std::vector<PendingRequest> spoke;
    for (std::size_t i = 0; i < silent_.size(); ++i) {
        const short revents = first + i < fds.size() ? fds[first + i].revents : 0;
        if (revents != 0) spoke.push_back(std::move(silent_[i].request));   // bytes, EOF or an error: the handler sees it
        else if (now >= silent_[i].deadline) close_request(silent_[i].request);   // said nothing for io_timeout
        else still.push_back(std::move(silent_[i]));
    }
    silent_ = std::move(still);
    for (PendingRequest& r : spoke) dispatch(r);
}

void BaseServer::dispatch(PendingRequest& request) {
    try {
        process_request(request);
    } catch (...) {
        handle_error(request, std::current_exception());
        shutdown_request(request);
    }
}

void BaseServer::handle_request() {
    // Python: wait at most `timeout` for a request, else handle_timeout().
    auto deadline = config_.timeout
                        ? Clock::now() + std::chrono::milliseconds(static_cast<long long>(*config_.timeout * 1000))
                        : Clock::time_point::max();
    for (;;) {
        long long ms = -1;
        if (config_.timeout) {
            ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
            if (ms < 0) ms = 0;
        }
        pollfd p{socket_.get(), POLLIN, 0};
        int n = ::poll(&p, 1, static_cast<int>(ms));
        if (n < 0 && errno == EINTR) continue;
        if (n > 0) {
            if (handle_request_noblock()) {
                service_actions();
                return;
            }
            continue;   // spurious wake-up: keep waiting
        }
        if (config_.timeout && Clock::now() >= deadline) {
            handle_timeout();
            return;
        }
    }
}

bool BaseServer::handle_request_noblock(bool* exhausted) {
    PendingRequest request;
    try {
        if (!get_request(request)) return false;
    } catch (const std::system_error& e) {
        const int err = e.code().value();
        if (exhausted && (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM)) {
            *exhausted = true;   // a model's thread: the model pauses (and logs) itself
            return false;
        }
        if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
            // Out of descriptors or memory: pause accepting instead of spinning
            // on a listening socket that stays readable. Logged at most every 10 s.
            accept_paused_until_ = Clock::now() + std::chrono::milliseconds(100);
            if (Clock::now() - last_accept_error_log_ > std::chrono::seconds(10)) {
                log(sdk::LogLevel::error, std::string(e.what()) + "; pausing accept for 100 ms");
                last_accept_error_log_ = Clock::now();
            }
        } else {
            log(sdk::LogLevel::warning, e.what());
        }
        return false;
    }
    if (!verify_request(request)) {
        shutdown_request(request);
        return true;
    }
    if (hold_silent_ && exhausted == nullptr) {
        // Nothing to read yet: wait here, not in a thread or a child, so
        // idle connections cannot take every one (issue 14, item 10).
        pollfd p{request.connection.get(), POLLIN | POLLRDHUP, 0};
        if (::poll(&p, 1, 0) == 0) {
            const auto timeout = io_timeout();
            silent_.push_back({std::move(request), timeout.count() > 0 ? Clock::now() + timeout
                                                                       : Clock::time_point::max()});
            return true;
        }
    }
    dispatch(request);
    return true;
}

bool BaseServer::verify_request(const PendingRequest& request) {
    if (!request.client.is_ip() || (config_.allow.empty() && config_.deny.empty())) return true;
    for (const Cidr& c : config_.deny) {
        if (c.contains(request.client.data())) {
            log(sdk::LogLevel::info, "denied " + request.client.to_string() + " (deny " + c.str() + ")");
            return false;
        }
    }
    if (config_.allow.empty()) return true;
    for (const Cidr& c : config_.allow)
        if (c.contains(request.client.data())) return true;
    log(sdk::LogLevel::info, "denied " + request.client.to_string() + " (not in allow)");
    return false;
}

void BaseServer::process_request(PendingRequest& request) { model_->process_request(*this, request); }

void BaseServer::process_request_inline(PendingRequest& request) {
    try {
        finish_request(request);
    } catch (...) {
        handle_error(request, std::current_exception());
    }
    try {
        shutdown_request(request);
    } catch (...) {
        handle_error(request, std::current_exception());
    }
}

void BaseServer::finish_request(PendingRequest& request) {
    std::unique_ptr<sdk::BaseRequestHandler> handler = make_handler(request);
    HostStream::Current current(request.stream.get());
    sdk::run_handler(*handler);
}

std::unique_ptr<sdk::BaseRequestHandler> BaseServer::make_handler(PendingRequest& request) {
    std::unique_ptr<sdk::BaseRequestHandler> handler = factory_(transport());
    if (!handler) throw std::runtime_error("the plugin made no handler for this transport");
    sdk::Request r;
    r.fd = request.connection ? request.connection.get() : socket_.get();
    if (request.connection && !request.stream)
        request.stream = std::make_unique<SocketStream>(request.connection.get(), io_timeout());
    r.stream = request.stream.get();
    r.datagram = request.datagram;
    r.client = request.client;
    r.peer = request.client;
    handler->bind(r, *this);
    return handler;
}

void BaseServer::handle_error(const PendingRequest& request, std::exception_ptr error) {
    std::string what = "unknown exception";
    try {
        if (error) std::rethrow_exception(error);
    } catch (const std::exception& e) {
        what = e.what();
    } catch (...) {
    }
    log(sdk::LogLevel::error, "error handling request from " + request.client.to_string() + ": " + what);
}

void BaseServer::shutdown_request(PendingRequest& request) {
    if (request.stream && request.stream->send_failed()) {
        abort_request(request);
        return;
    }
    if (!begin_shutdown(request)) return;   // closed already
    LingeringClose(request.connection.get()).run();
    close_request(request);
}

bool BaseServer::begin_shutdown(PendingRequest& request) {
    // Nothing unread (or the client closed too): close() sends the FIN, as
    // nginx closes a finished connection; SHUT_WR and the drain only for a
    // client still sending.
    if (request.connection && drop_unread(request.connection.get()) > 0) {
        ::shutdown(request.connection.get(), SHUT_WR);
        return true;
    }
    close_request(request);
    return false;
}

void BaseServer::abort_request(PendingRequest& request) {
    // SPEC "Aborts": the peer stalled or failed to take the answer. A
    // graceful close would leave the kernel holding what is queued for a
    // reader that will not read (FIN-WAIT-1); a RST frees it at once, as
    // nginx's reset_timedout_connection.
    if (request.connection) {
        linger l{1, 0};
        ::setsockopt(request.connection.get(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    close_request(request);
}

void BaseServer::close_request(PendingRequest& request) {
    // The stream first: an access line still waiting for its answer's last
    // byte is written now, with the bytes that went (a forking child _exits
    // without destroying its PendingRequest).
    request.stream.reset();
    request.connection.reset();
}

void BaseServer::handle_timeout() {
    log(sdk::LogLevel::debug, "no request within timeout");
}

void BaseServer::service_actions() { model_->service_actions(*this); }

void BaseServer::close_socket() { socket_.reset(); }

void BaseServer::stop_accepting() {
    stopping_.store(true);
    // A model whose threads accept stops first. A stream socket closes at
    // once (new clients go elsewhere: another generation, or are refused);
    // a datagram socket stays open while handlers answer through it.
    model_->release_socket(*this);
    if (transport() == sdk::Transport::stream) close_socket();
}

std::size_t BaseServer::server_close(Clock::time_point deadline) {
    stop_accepting();
    // Connections accepted but silent are still owed an answer if they ask
    // before the deadline (as the event model's): wait for them here.
    while (!silent_.empty() && Clock::now() < deadline) {
        std::vector<pollfd> fds;
        for (const Silent& s : silent_) fds.push_back({s.request.connection.get(), POLLIN | POLLRDHUP, 0});
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (::poll(fds.data(), fds.size(), static_cast<int>(std::clamp<long long>(ms, 0, 100))) < 0 && errno != EINTR)
            break;
        service_silent(fds, 0);
    }
    for (Silent& s : silent_) close_request(s.request);
    silent_.clear();
    std::size_t still = model_->server_close(*this, deadline);
    if (transport() == sdk::Transport::datagram) close_socket();   // the handlers are done (or given up)
    return still;
}

}  // namespace sockhost::host
