// SPDX-License-Identifier: MIT
// HostStream: what the host's byte streams share beyond sdk::ByteStream —
// counts of the bytes handed to them and the bytes the socket took, a send
// that stalled or failed (the connection is then aborted), and the access
// records of answers whose last byte has not left yet.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include <sockhost/sdk/byte_stream.hpp>
#include <sockhost/sdk/log_text.hpp>

namespace sockhost::host {

/// Where a finished answer's access record goes (the server's access log).
class AccessLogSink {
public:
    virtual void write_access(const sdk::AccessRecord& record) const = 0;

protected:
    ~AccessLogSink() = default;
};

/// The base of SocketStream and DeferringSocketStream.
///
/// The access log states the body bytes actually sent (nginx's
/// $body_bytes_sent, Apache's %O): a handler logs its answer when it has
/// written it, but the event model may still hold megabytes of it for a slow
/// reader, and a blocking send may fail half-way. So a record is written
/// when the stream has sent the answer's last byte, or, when the connection
/// ends first, with the bytes that did leave and marked aborted.
class HostStream : public sdk::ByteStream {
public:
    HostStream();   // out of line: the records' type is the .cpp's
    ~HostStream() override;

    /// Bytes handed to write()/write_more()/send_file() so far.
    std::uint64_t bytes_accepted() const { return accepted_; }
    /// ... of which the socket has taken.
    std::uint64_t bytes_sent() const { return sent_; }
    /// A send stalled past the timeout or failed: the peer did not take the
    /// answer, and the connection is to be aborted (RST), not closed
    /// gracefully with the rest queued in the kernel (SPEC "Aborts").
    bool send_failed() const { return send_failed_; }

    /// Writes `record` to `sink` once the answer's last byte has been sent:
    /// it ends `unflushed` bytes (still in the handler's write buffer) after
    /// what the stream has accepted so far. At once when it has.
    void log_when_sent(const sdk::AccessRecord& record, std::uint64_t unflushed, const AccessLogSink& sink);
    /// Records still waiting for their last byte.
    std::size_t records_waiting() const;

    /// The stream of the connection whose handler runs on this thread
    /// (nullptr: none, a datagram). Set by the concurrency model around a
    /// handler's calls, so the server's log_access() finds it.
    static HostStream* current();
    class Current {
    public:
        explicit Current(HostStream* stream);
        ~Current();
        Current(const Current&) = delete;
        Current& operator=(const Current&) = delete;

    private:
        HostStream* previous_;
    };

protected:
    void note_accepted(std::size_t n) { accepted_ += n; }
    void note_sent(std::size_t n) {
        sent_ += n;
        if (waiting_) write_sent_records();
    }
    void note_send_failed() { send_failed_ = true; }

private:
    struct Waiting;
    /// Writes the waiting records whose answers are all out.
    void write_sent_records();

    std::uint64_t accepted_ = 0;
    std::uint64_t sent_ = 0;
    bool send_failed_ = false;
    std::unique_ptr<std::vector<Waiting>> waiting_;   // only while one waits
};

}  // namespace sockhost::host
