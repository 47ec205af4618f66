// SPDX-License-Identifier: MIT
// StreamRequestHandler: socketserver.StreamRequestHandler, with rfile and wfile.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sockhost/sdk/abi.hpp"
#include "sockhost/sdk/base_request_handler.hpp"

namespace sockhost::sdk {

/// The byte transport under rfile/wfile: a connected socket in the host, an
/// in-memory buffer in the test kit. Errors are std::system_error;
/// a timed-out wait is TimeoutError.
class SOCKHOST_SDK_API ByteStream {
public:
    virtual ~ByteStream();
    /// Reads at least 1 byte (blocking up to the timeout); 0 means end of stream.
    virtual std::size_t read_some(char* buffer, std::size_t size) = 0;
    /// Writes everything (blocking up to the timeout per wait).
    virtual void write_all(std::string_view data) = 0;
    /// Writes several buffers as one (writev on sockets).
    virtual void write_all(std::string_view first, std::string_view second);
    /// Sends `count` bytes of file `in_fd` from `offset` (sendfile on sockets).
    virtual void send_file(int in_fd, off_t offset, std::size_t count);
    /// Half-close: the peer reads end of stream, we can still read.
    virtual void shutdown_write() {}
    /// Timeout for each later wait; zero = wait forever.
    virtual void set_timeout(std::chrono::milliseconds timeout) { (void)timeout; }
    virtual std::chrono::milliseconds timeout() const { return std::chrono::milliseconds{0}; }
    /// The socket, or -1 when there is none (test kit).
    virtual int fd() const { return -1; }
};

/// A ByteStream over a connected socket the caller keeps owning.
class SOCKHOST_SDK_API SocketStream final : public ByteStream {
public:
    SocketStream(int fd, std::chrono::milliseconds timeout);
    ~SocketStream() override;
    std::size_t read_some(char* buffer, std::size_t size) override;
    void write_all(std::string_view data) override;
    void write_all(std::string_view first, std::string_view second) override;
    void send_file(int in_fd, off_t offset, std::size_t count) override;
    void shutdown_write() override;
    void set_timeout(std::chrono::milliseconds timeout) override;
    std::chrono::milliseconds timeout() const override { return timeout_; }
    int fd() const override { return fd_; }
    /// Writes everything with MSG_MORE: more follows at once (a response head
    /// before its sendfile body), so both leave in as few segments as
    /// possible. Not virtual: ByteStream's vtable stays as in ABI 1.0.
    void write_more(std::string_view data);

private:
    /// Applies timeout_ to SO_RCVTIMEO or SO_SNDTIMEO when that one differs:
    /// set_timeout() only records the value, so alternating idle, head and
    /// send timeouts costs no setsockopt() unless that direction is used.
    void apply_timeout(int option, std::chrono::milliseconds& applied);
    /// After a send failed: true when it was a non-blocking one that would
    /// have waited; then `flags` lose MSG_DONTWAIT and the send timeout is
    /// applied, so the caller retries, waiting.
    bool must_wait_to_send(int& flags);
    int fd_;
    std::chrono::milliseconds timeout_;
    std::chrono::milliseconds rcv_applied_{-1};
    std::chrono::milliseconds snd_applied_{-1};
};

/// The stream concurrency = "event" gives stream handlers (SDK ABI 1.2), over
/// a non-blocking socket. With deferral off it behaves as SocketStream
/// (each wait bounded by the timeout). With deferral on (the host turns it
/// on for resumable handlers), a send that would wait queues what is left
/// instead (bytes copied, a file range as a duplicate descriptor and an
/// offset) and returns, so no thread waits on a slow reader: the host waits
/// for the socket to be writable and calls flush_pending() until it returns
/// true. Bytes go out in the order written: a read that would wait, a
/// shutdown_write(), or queueing past max_queued() bytes first sends the
/// queue, waiting as SocketStream does.
class SOCKHOST_SDK_API DeferringSocketStream final : public ByteStream {
public:
    DeferringSocketStream(int fd, std::chrono::milliseconds timeout);
    ~DeferringSocketStream() override;
    DeferringSocketStream(const DeferringSocketStream&) = delete;
    DeferringSocketStream& operator=(const DeferringSocketStream&) = delete;

    std::size_t read_some(char* buffer, std::size_t size) override;
    void write_all(std::string_view data) override;
    void write_all(std::string_view first, std::string_view second) override;
    void send_file(int in_fd, off_t offset, std::size_t count) override;
    void shutdown_write() override;
    void set_timeout(std::chrono::milliseconds timeout) override { timeout_ = timeout; }
    std::chrono::milliseconds timeout() const override { return timeout_; }
    int fd() const override { return fd_; }
    /// As SocketStream::write_more (MSG_MORE: a head before its file body).
    void write_more(std::string_view data);

    void set_deferral(bool on) { deferral_ = on; }
    bool deferral() const { return deferral_; }
    /// True while queued output waits for the socket.
    bool pending() const;
    /// Sends queued output without waiting: true when nothing is left.
    /// Throws std::system_error when the connection failed.
    bool flush_pending();
    /// Queued bytes (a file range counts as 4 KiB) past which a write waits.
    static constexpr std::size_t max_queued() { return 256 * 1024; }

private:
    struct Queue;
    /// Sends `first` then `second`, MSG_MORE in `flags` or not: now as far as
    /// the socket takes them, the rest queued (deferral) or waited for.
    void send_or_queue(std::string_view first, std::string_view second, int flags);
    /// Sends the whole queue, waiting (bounded by the timeout) as needed.
    void drain_queue();
    /// Waits until the socket is `events`-ready; TimeoutError past the timeout.
    void wait_for(short events, const char* what);
    int fd_;
    bool deferral_ = false;
    std::chrono::milliseconds timeout_;
    std::unique_ptr<Queue> queue_;
};

/// rfile: a buffered reader (Python's BufferedReader subset).
class SOCKHOST_SDK_API Reader {
public:
    explicit Reader(ByteStream& stream, std::size_t chunk = 16 * 1024);
    ~Reader();
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;

    /// Up to n bytes: fewer only at end of stream.
    std::string read(std::size_t n);
    /// Everything until end of stream.
    std::string read_all();
    /// At most n bytes with at most one read from the stream; "" at end of stream.
    std::string read1(std::size_t n);
    /// One line including its '\n', or at most `limit` bytes, or what is left
    /// at end of stream ("" when nothing is).
    std::string readline(std::size_t limit = static_cast<std::size_t>(-1));

    /// Zero-copy access for parsers: the bytes buffered but not consumed.
    std::string_view buffered() const { return std::string_view(buf_.data() + pos_, end_ - pos_); }
    /// Reads more from the stream into the buffer; returns the bytes added (0 = EOF).
    std::size_t fill();
    /// Drops n buffered bytes (n <= buffered().size()).
    void consume(std::size_t n);
    /// True once the stream reported end of stream and the buffer is empty.
    bool at_eof() const { return eof_ && pos_ == end_; }
    /// True when the last read from the stream filled all the room it was
    /// given, so the stream may hold more right now; false after a shorter
    /// read, "nothing yet" or end of stream. (The event model parks a
    /// connection edge-triggered only when this is false.)
    bool may_have_more() const { return more_; }
    ByteStream& stream() { return stream_; }

    /// Like fill(), but never waits: reads what the socket already holds.
    /// nullopt = nothing there yet; 0 = end of stream; else the bytes added.
    /// A socket stream (fd() >= 0) is read with recv(MSG_DONTWAIT) directly;
    /// a stream without a socket (the test kit's) is read with fill().
    std::optional<std::size_t> fill_nowait();
    /// Gives the buffer's memory back (down to what is still buffered), for a
    /// connection about to idle. The next fill() allocates again.
    void release();

private:
    ByteStream& stream_;
    std::size_t chunk_;
    /// Room for chunk_ more bytes at end_ (compacting or growing).
    char* reserve_chunk();
    std::string buf_;          // storage; its size only grows, so no byte is zeroed per read
    std::size_t pos_ = 0;      // buffered data is [pos_, end_)
    std::size_t end_ = 0;
    bool eof_ = false;
    bool more_ = false;        // the last read filled its chunk (in eof_'s padding: the layout of ABI 1.1)
};

/// wfile: a buffered writer. Data is sent when the buffer fills, on flush(),
/// and by StreamRequestHandler::finish().
class SOCKHOST_SDK_API Writer {
public:
    explicit Writer(ByteStream& stream, std::size_t buffer_size = 16 * 1024);
    ~Writer();
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    void write(std::string_view data);
    void flush();
    /// As flush(), telling TCP that more follows (MSG_MORE) where the stream
    /// is a socket: for the last bytes before the connection is closed, so
    /// the FIN leaves in the same segment (nginx's tcp_nopush does this).
    /// Must be followed by a close, a shutdown or a plain write: until then
    /// a partial segment may be held back.
    void flush_more();
    /// Flushes, then sends the file region with zero copies where the stream can.
    void send_file(int in_fd, off_t offset, std::size_t count);
    /// Bytes accepted so far (buffered or sent), for access logs.
    std::size_t bytes_written() const { return written_; }
    std::size_t pending() const { return buf_.size(); }
    ByteStream& stream() { return stream_; }
    /// Gives the buffer's memory back when nothing is pending (see Reader::release).
    void release();

private:
    void send_buffered_more();   // buf_ with MSG_MORE where the stream can; clears it

    ByteStream& stream_;
    std::size_t buffer_size_;
    std::string buf_;
    std::size_t written_ = 0;
};

/// Services a byte stream. setup() builds rfile/wfile over the connection,
/// applies the timeout and the Nagle switch; finish() flushes wfile.
class SOCKHOST_SDK_API StreamRequestHandler : public BaseRequestHandler {
public:
    StreamRequestHandler();
    ~StreamRequestHandler() override;

    /// May be overridden; call the base first.
    void setup() override;
    /// May be overridden; call the base last. Flush errors are ignored, as the
    /// peer may already be gone (Python does the same).
    void finish() override;

    Reader& rfile() { return *rfile_; }
    Writer& wfile() { return *wfile_; }
    ByteStream& connection() { return *stream_; }

    /// Use this stream instead of a SocketStream (the test kit's, the event
    /// model's DeferringSocketStream). Before setup() only.
    void use_stream(std::unique_ptr<ByteStream> stream);
    /// True once a stream is set (use_stream() or setup()). SDK ABI 1.2.
    bool has_stream() const { return stream_ != nullptr; }

    /// Frees rfile's and wfile's buffers (rfile keeps unread bytes), so a
    /// parked connection costs little memory. Called by the host before it
    /// parks a resumable handler; harmless at any time between requests.
    void release_buffers();

protected:
    /// Per-wait I/O timeout; unset = the server's io_timeout(); zero = none.
    /// Set it in the constructor (Python's class attribute `timeout`).
    std::optional<std::chrono::milliseconds> timeout;
    /// Sets TCP_NODELAY on TCP connections (Python's disable_nagle_algorithm).
    bool disable_nagle_algorithm = false;
    /// Buffer sizes (Python's rbufsize / wbufsize).
    std::size_t rbufsize = 16 * 1024;
    std::size_t wbufsize = 16 * 1024;

private:
    std::unique_ptr<ByteStream> stream_;
    std::unique_ptr<Reader> rfile_;
    std::unique_ptr<Writer> wfile_;
};

/// What a resumable handler wants done with its connection once
/// handle_ready() returns.
enum class Resume {
    park,    // keep it; call handle_ready() again when more bytes arrive
    close,   // done: the host runs finish() and closes it
};

/// The hook of concurrency = "event" (SDK ABI 1.1): a connection handler that
/// can stop between requests, so an idle connection waits in the host's
/// epoll set instead of on a thread. A stream handler opts in by deriving
/// from it next to StreamRequestHandler:
///
///     class Mine : public sdk::StreamRequestHandler, public sdk::ResumableHandler { ... };
///
/// BaseHTTPRequestHandler supports it without deriving (see resumable()).
/// The host calls setup() once, then handle_ready() each time the connection
/// is readable (the first time right after setup()), then finish() once;
/// handle() is not called. Calls never overlap, but successive ones may run
/// on different threads.
class SOCKHOST_SDK_API ResumableHandler {
public:
    virtual ~ResumableHandler();
    /// Serves what has arrived: reads only what is already there
    /// (Reader::fill_nowait), never waits for a peer that has not sent yet.
    /// Writing may block (bounded by the I/O timeout). Returns park to wait
    /// for more, close when the connection is done.
    virtual Resume handle_ready() = 0;
    /// How long the parked connection may wait for its next bytes; past it
    /// the host calls handle_idle_timeout(), then finish(), and closes.
    virtual std::chrono::steady_clock::time_point idle_deadline() const = 0;
    /// The connection idled past idle_deadline(): a last word (an HTTP 408
    /// for a half-received request), or nothing. May be overridden.
    virtual void handle_idle_timeout() {}
};

/// The resumable side of `handler` (after setup()), or nullptr when it runs
/// only as setup/handle/finish. For a BaseHTTPRequestHandler it is an
/// adapter the SDK keeps with the handler's state, which is how HTTP plugins
/// built against ABI 1.0 headers become resumable without a vtable change.
SOCKHOST_SDK_API ResumableHandler* resumable(BaseRequestHandler& handler);

}  // namespace sockhost::sdk
