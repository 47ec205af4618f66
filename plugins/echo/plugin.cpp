// SPDX-License-Identifier: MIT
// The echo plugin's descriptor.
#include "echo.hpp"

namespace sockhost::plugins::echo {

sdk::PluginInfo plugin_info() {
    return {.name = "echo",
            .version = "1.0.0",
            .transports = sdk::Transports::stream | sdk::Transports::datagram,
            .thread_safe = true,
            .fork_safe = true,
            .validate_options = sdk::no_options,
            .make_factory = sdk::handler_factory<EchoStreamHandler, EchoDatagramHandler>()};
}

}  // namespace sockhost::plugins::echo

SOCKHOST_PLUGIN(sockhost::plugins::echo::plugin_info)
