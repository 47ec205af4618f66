// SPDX-License-Identifier: MIT
// The http_static plugin's descriptor.
#include "http_static.hpp"

namespace sockhost::plugins::http_static {

sdk::PluginInfo plugin_info() {
    return {.name = "http_static",
            .version = "1.0.0",
            .transports = sdk::Transports::stream,
            .thread_safe = true,   // handlers share only the read-only Config and MIME table
            .fork_safe = true,     // no threads or locks of its own
            .validate_options = validate_options,
            .make_factory = make_factory};
}

}  // namespace sockhost::plugins::http_static

SOCKHOST_PLUGIN(sockhost::plugins::http_static::plugin_info)
