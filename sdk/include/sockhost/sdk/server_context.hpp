// SPDX-License-Identifier: MIT
// What a handler may know of the server that runs it (Python's handler.server).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "sockhost/sdk/abi.hpp"
#include "sockhost/sdk/options.hpp"
#include "sockhost/sdk/socket_address.hpp"

namespace sockhost::sdk {

struct AccessRecord;

enum class LogLevel { trace = 0, debug = 1, info = 2, warning = 3, error = 4 };

/// Implemented by the host (and by the test kit). One per [[server]] entry;
/// it outlives every handler it serves and may be used from any thread.
class SOCKHOST_SDK_API ServerContext {
public:
    virtual ~ServerContext();

    /// The `name` of the [[server]] entry.
    virtual const std::string& name() const = 0;
    /// The bound address (the real port when port 0 was asked for).
    virtual const SocketAddress& server_address() const = 0;
    /// The entry's [server.options], already validated by the plugin.
    virtual const Options& options() const = 0;
    /// Default I/O timeout for one wait on a stream connection (0 = none).
    virtual std::chrono::milliseconds io_timeout() const = 0;
    /// True once the host is shutting down: long-lived handlers (keep-alive
    /// loops) should finish the current request and return.
    virtual bool stopping() const = 0;
    /// Writes one line to the host log, prefixed with the server name. Pass
    /// raw text: the host escapes it (escape_log_text), once.
    virtual void log(LogLevel level, std::string_view message) const = 0;
    /// One answered request for the access log, which the host formats
    /// (Common Log Format by default; log_text.hpp).
    virtual void log_access(const AccessRecord& record) const = 0;
    /// Whether log_access() records are kept at all, so a handler can skip
    /// making them.
    virtual bool access_log_enabled() const { return true; }
};

}  // namespace sockhost::sdk
