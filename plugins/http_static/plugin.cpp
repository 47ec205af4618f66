// SPDX-License-Identifier: MIT
// The http_static plugin's descriptor.
#include "http_static.hpp"

namespace sockhost::plugins::http_static {

sdk::PluginInfo plugin_info() {
    return {.name = "http_static",
            .version = "1.0.0",
            .transports = sdk::Transports::stream,
            // Handlers share the read-only Config and MIME table, and the
            // open-file cache, which guards itself with a mutex.
            .thread_safe = true,
            // No threads of its own. The cache's mutex is taken only by
            // request code, never across a fork: a forking server forks
            // from its accept loop (which never serves), and a CGI child
            // execs at once without touching the cache.
            .fork_safe = true,
            .protocol = sdk::Protocol::http,
            .validate_options = validate_options,
            .make_factory = make_factory};
}

}  // namespace sockhost::plugins::http_static

SOCKHOST_PLUGIN(sockhost::plugins::http_static::plugin_info)
