// SPDX-License-Identifier: MIT
// The cgi plugin's descriptor.
#include "cgi.hpp"

namespace sockhost::plugins::cgi {

sdk::PluginInfo plugin_info() {
    return {.name = "cgi",
            .version = "1.0.0",
            .transports = sdk::Transports::stream,
            .thread_safe = true,   // shared: read-only configs and an atomic CgiLimiter
            .fork_safe = true,     // no threads or locks of its own; children reaped by pid
            .protocol = sdk::Protocol::http,
            .validate_options = validate_options,
            .make_factory = make_factory};
}

}  // namespace sockhost::plugins::cgi

SOCKHOST_PLUGIN(sockhost::plugins::cgi::plugin_info)
