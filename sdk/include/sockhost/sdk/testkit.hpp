// SPDX-License-Identifier: MIT
// Test kit: drive a handler's setup/handle/finish from a unit test, with
// in-memory rfile/wfile and no sockets.
#pragma once

#include <chrono>
#include <exception>
#include <mutex>
#include <string>
#include <vector>

#include "sockhost/sdk/abi.hpp"
#include "sockhost/sdk/base_request_handler.hpp"
#include "sockhost/sdk/options.hpp"
#include "sockhost/sdk/server_context.hpp"
#include "sockhost/sdk/stream_request_handler.hpp"

namespace sockhost::sdk::testkit {

/// A ServerContext that records log lines instead of printing them.
class SOCKHOST_SDK_API FakeServer : public ServerContext {
public:
    explicit FakeServer(Options options = {}, std::string name = "test");
    ~FakeServer() override;

    const std::string& name() const override { return name_; }
    const SocketAddress& server_address() const override { return address_; }
    const Options& options() const override { return options_; }
    std::chrono::milliseconds io_timeout() const override { return io_timeout_; }
    bool stopping() const override { return stopping_; }
    void log(LogLevel level, std::string_view message) const override;
    void log_access(std::string_view line) const override;

    /// Every line logged so far (access lines prefixed "access: ").
    std::vector<std::string> lines() const;
    void set_stopping(bool stopping) { stopping_ = stopping; }
    void set_address(const SocketAddress& address) { address_ = address; }

private:
    std::string name_;
    Options options_;
    SocketAddress address_;
    std::chrono::milliseconds io_timeout_{5000};
    bool stopping_ = false;
    mutable std::mutex mutex_;
    mutable std::vector<std::string> lines_;
};

/// A ByteStream reading from a fixed input and collecting what is written.
/// Reads hand out at most `chunk` bytes at a time, so parsers see the input
/// split (chunk 1 = a byte at a time).
class SOCKHOST_SDK_API MemoryStream : public ByteStream {
public:
    explicit MemoryStream(std::string input, std::size_t chunk = static_cast<std::size_t>(-1));
    ~MemoryStream() override;
    std::size_t read_some(char* buffer, std::size_t size) override;
    void write_all(std::string_view data) override;
    void shutdown_write() override { write_closed_ = true; }
    const std::string& output() const { return output_; }
    bool write_closed() const { return write_closed_; }

private:
    std::string input_;
    std::size_t pos_ = 0;
    std::size_t chunk_;
    std::string output_;
    bool write_closed_ = false;
};

/// What running one handler produced.
struct Result {
    std::string output;              // every byte the handler wrote
    std::vector<std::string> log;    // the server's log lines
    std::exception_ptr error;        // the exception run_handler rethrew, if any
};

/// Runs a StreamRequestHandler over `input` (client 127.0.0.1:40000).
SOCKHOST_SDK_API Result run_stream(StreamRequestHandler& handler, std::string input,
                                   FakeServer& server, std::size_t chunk = static_cast<std::size_t>(-1));
/// Runs a DatagramRequestHandler on one datagram; output is the reply.
SOCKHOST_SDK_API Result run_datagram(BaseRequestHandler& handler, std::string datagram,
                                     FakeServer& server);

}  // namespace sockhost::sdk::testkit
