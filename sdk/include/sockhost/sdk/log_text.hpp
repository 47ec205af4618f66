// SPDX-License-Identifier: MIT
// Log text: one escaper for everything a client can put in a log line, and
// the access log's line formats.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "sockhost/sdk/abi.hpp"
#include "sockhost/sdk/socket_address.hpp"
#include "sockhost/sdk/tls_info.hpp"

namespace sockhost::sdk {

/// Log-safe text: control characters, DEL, bytes >= 0x80, '"' and '\'
/// become \xNN (\n, \r and \t by name), so no client can forge a second
/// line, send a terminal escape or break a quoted field. The host applies
/// it once to every message; callers pass raw text.
SOCKHOST_SDK_API std::string escape_log_text(std::string_view text);
/// The same, appended to `out`.
SOCKHOST_SDK_API void append_log_text(std::string& out, std::string_view text);

/// One answered request, for the access log. Views: valid during the call.
/// Fields are only ever appended (with kAbiMinor); the host reads those of
/// a later minor only from plugins built for it.
struct AccessRecord {
    const SocketAddress* client = nullptr;   // after PROXY protocol / a trusted proxy
    const SocketAddress* peer = nullptr;     // the socket's peer
    const TlsInfo* tls = nullptr;            // null on a plain connection
    std::string_view request_line;           // as received (CLF's "%r"), "" when none
    std::string_view method;
    std::string_view target;
    std::string_view protocol;
    int status = 0;                          // 0 = no answer was sent
    std::uint64_t body_bytes = 0;            // response body bytes sent
    std::chrono::microseconds duration{0};   // from the request head to the end of the answer
    bool aborted = false;                    // the answer was cut short
    std::string_view referer;                // for "combined"
    std::string_view user_agent;             // for "combined"
    // ABI 2.1:
    /// Bytes of the answer still in the handler's write buffer (not yet
    /// given to the stream) as it is logged: the host writes the record
    /// once the answer's last byte has been sent, with the bytes that did.
    std::uint64_t unflushed_bytes = 0;
};

/// clf: Common Log Format; combined: CLF + "referer" "user-agent" (Apache's,
/// nginx's default); json: one object per line.
enum class AccessLogFormat { clf, combined, json };

/// The line (without newline) for `record`, every client-supplied field
/// escaped once (escape_log_text; json strings escaped as JSON).
SOCKHOST_SDK_API std::string format_access_line(const AccessRecord& record, AccessLogFormat format,
                                                std::string_view server_name);

}  // namespace sockhost::sdk
