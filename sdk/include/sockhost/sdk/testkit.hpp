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
#include "sockhost/sdk/byte_stream.hpp"
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
    /// Records the Common Log Format line, prefixed "access: ".
    void log_access(const AccessRecord& record) const override;

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

/// The in-memory stream run_stream() uses (sockhost/sdk/byte_stream.hpp).
using MemoryStream = sdk::MemoryStream;

/// What running one handler produced.
struct Result {
    std::string output;              // every byte the handler wrote
    std::vector<std::string> log;    // the server's log lines
    std::exception_ptr error;        // the exception run_handler rethrew, if any
};

/// Runs a stream handler over `input` (client 127.0.0.1:40000), fed at
/// most `chunk` bytes per read, as setup(), handle(), finish().
SOCKHOST_SDK_API Result run_stream(BaseRequestHandler& handler, std::string input,
                                   FakeServer& server, std::size_t chunk = static_cast<std::size_t>(-1));
/// The same over a stream the caller made (one that fails, say).
SOCKHOST_SDK_API Result run_stream(BaseRequestHandler& handler, ByteStream& stream, FakeServer& server);
/// Runs a DatagramRequestHandler on one datagram; output is the reply.
SOCKHOST_SDK_API Result run_datagram(BaseRequestHandler& handler, std::string datagram,
                                     FakeServer& server);

}  // namespace sockhost::sdk::testkit
