// SPDX-License-Identifier: MIT
#include "host/streams/host_stream.hpp"

#include <algorithm>
#include <optional>
#include <string>

namespace sockhost::host {

namespace {
using Clock = std::chrono::steady_clock;
thread_local HostStream* t_current = nullptr;
}  // namespace

/// An access record that owns its text, waiting for its answer's last byte.
struct HostStream::Waiting {
    std::uint64_t end;          // bytes_sent() at which the answer is all out
    Clock::time_point began;    // the request's start (the duration goes on)
    const AccessLogSink* sink;
    sdk::SocketAddress client, peer;
    std::string tls_protocol;
    bool tls = false;
    std::string request_line, method, target, protocol, referer, user_agent;
    int status;
    std::uint64_t body_bytes;
    bool aborted;

    Waiting(const sdk::AccessRecord& r, std::uint64_t end_, const AccessLogSink& sink_)
        : end(end_),
          began(Clock::now() - r.duration),
          sink(&sink_),
          client(r.client ? *r.client : sdk::SocketAddress{}),
          peer(r.peer ? *r.peer : sdk::SocketAddress{}),
          tls(r.tls != nullptr),
          request_line(r.request_line),
          method(r.method),
          target(r.target),
          protocol(r.protocol),
          referer(r.referer),
          user_agent(r.user_agent),
          status(r.status),
          body_bytes(r.body_bytes),
          aborted(r.aborted) {
        if (r.tls) tls_protocol.assign(r.tls->protocol);
    }

    /// Writes the record: `unsent` of its bytes never left.
    void write(std::uint64_t unsent) const {
        sdk::TlsInfo tls_info;
        tls_info.protocol = tls_protocol;
        sdk::AccessRecord r;
        r.client = &client;
        r.peer = &peer;
        r.tls = tls ? &tls_info : nullptr;
        r.request_line = request_line;
        r.method = method;
        r.target = target;
        r.protocol = protocol;
        r.status = status;
        r.body_bytes = body_bytes - std::min(unsent, body_bytes);
        r.duration = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - began);
        r.aborted = aborted || unsent > 0;
        r.referer = referer;
        r.user_agent = user_agent;
        sink->write_access(r);
    }
};

HostStream::HostStream() = default;

HostStream::~HostStream() {
    // The connection ends with answers not all out: what left is logged.
    if (!waiting_) return;
    for (const Waiting& w : *waiting_) w.write(w.end > sent_ ? w.end - sent_ : 0);
}

void HostStream::log_when_sent(const sdk::AccessRecord& record, std::uint64_t unflushed,
                               const AccessLogSink& sink) {
    const std::uint64_t end = accepted_ + unflushed;
    if (sent_ >= end && !waiting_) {
        sink.write_access(record);
        return;
    }
    if (!waiting_) waiting_ = std::make_unique<std::vector<Waiting>>();
    waiting_->emplace_back(record, end, sink);
    write_sent_records();   // an earlier one may be out (order kept)
}

void HostStream::write_sent_records() {
    std::vector<Waiting>& w = *waiting_;
    std::size_t done = 0;
    while (done < w.size() && w[done].end <= sent_) w[done++].write(0);
    w.erase(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(done));
    if (w.empty()) waiting_.reset();
}

std::size_t HostStream::records_waiting() const { return waiting_ ? waiting_->size() : 0; }

HostStream* HostStream::current() { return t_current; }

HostStream::Current::Current(HostStream* stream) : previous_(t_current) { t_current = stream; }
HostStream::Current::~Current() { t_current = previous_; }

}  // namespace sockhost::host
