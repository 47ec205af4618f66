// SPDX-License-Identifier: MIT
// The cgi plugin's descriptor.
#include "cgi.hpp"

namespace sockhost::plugins::cgi {

sdk::PluginInfo plugin_info() {
    return {.name = "cgi",
            .version = "1.0.0",
            .transports = sdk::Transports::stream,
            .thread_safe = true,   // shared: read-only configs and a CgiLimiter with its own mutex
            // No threads of its own; children reaped by pid. The limiter's
            // mutex is one per server, taken only by that server's handlers:
            // a forking server's handlers all run in its children, so a fork
            // never copies it locked into a process that takes it.
            .fork_safe = true,
            .protocol = sdk::Protocol::http,
            .validate_options = validate_options,
            .make_factory = make_factory};
}

}  // namespace sockhost::plugins::cgi

SOCKHOST_PLUGIN(sockhost::plugins::cgi::plugin_info)
