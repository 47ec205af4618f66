// SPDX-License-Identifier: MIT
// How a plugin declares itself: PluginInfo, the plain-data descriptor and the
// SOCKHOST_PLUGIN macro that exports it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/dll/alias.hpp>

#include "sockhost/sdk/abi.hpp"
#include "sockhost/sdk/base_request_handler.hpp"
#include "sockhost/sdk/options.hpp"

namespace sockhost::sdk {

/// The two kinds of transport a handler can serve.
enum class Transport : std::uint32_t { stream = 1, datagram = 2 };

/// A set of transports.
enum class Transports : std::uint32_t { none = 0, stream = 1, datagram = 2, both = 3 };
constexpr Transports operator|(Transports a, Transports b) {
    return static_cast<Transports>(static_cast<std::uint32_t>(a) | static_cast<std::uint32_t>(b));
}
constexpr bool serves(Transports set, Transport t) {
    return (static_cast<std::uint32_t>(set) & static_cast<std::uint32_t>(t)) != 0;
}

/// The protocol family a stream plugin speaks. The host writes a few
/// answers itself, without the plugin (overload, a quarantined plugin, plain
/// text on a TLS port): for `http` a minimal HTTP/1.1 answer (503 with
/// Retry-After, 400), for `raw` a close.
enum class Protocol : std::uint32_t { raw = 0, http = 1 };

/// Makes the handler for one request on the given transport. Called
/// concurrently from the server's threads; must be thread-safe.
using HandlerFactory = std::function<std::unique_ptr<BaseRequestHandler>(Transport)>;

/// What a plugin is and can do, returned by the function SOCKHOST_PLUGIN names.
struct PluginInfo {
    std::string name;                 // unique among loaded plugins
    std::string version;              // the plugin's own version
    Transports transports = Transports::stream;
    bool thread_safe = true;          // may run under threading (and event) models
    bool fork_safe = true;            // may run under the forking model
    Protocol protocol = Protocol::raw;
    /// The client sends first on a new connection (HTTP does; a greeting
    /// protocol such as SMTP does not): the host may wait for its first
    /// bytes before running the handler.
    bool client_speaks_first = true;
    /// Datagram handlers: one handler object may serve many datagrams in a
    /// row (bind(), setup(), handle(), finish() again for each), so the host
    /// need not make one per datagram. setup() must reset per-datagram state.
    bool reusable_datagram_handler = false;
    /// Checks one server's options at start-up; throws OptionError. Required.
    std::function<void(const Options&)> validate_options;
    /// Builds the factory for one server from its (validated) options, once,
    /// before the server starts; per-server state lives in what it captures.
    std::function<HandlerFactory(const Options&)> make_factory;
};

/// make_factory for plugins whose handlers read options themselves (through
/// server().options()). Stream or Datagram may be void for "not served".
template <class Stream, class Datagram = void>
std::function<HandlerFactory(const Options&)> handler_factory() {
    return [](const Options&) -> HandlerFactory {
        return [](Transport t) -> std::unique_ptr<BaseRequestHandler> {
            if (t == Transport::stream) {
                if constexpr (!std::is_void_v<Stream>) return std::make_unique<Stream>();
            } else {
                if constexpr (!std::is_void_v<Datagram>) return std::make_unique<Datagram>();
            }
            return nullptr;
        };
    };
}

/// Plain data at a fixed layout: the host reads magic, ABI versions and
/// fingerprint before it calls `info` or touches any C++ type from the plugin.
/// Fields are only ever appended (and kAbiMinor bumped).
struct PluginDescriptor {
    std::uint32_t magic;          // kAbiMagic
    std::uint32_t abi_major;      // kAbiMajor when the plugin was built
    std::uint32_t abi_minor;      // kAbiMinor when the plugin was built
    std::uint32_t size;           // sizeof(PluginDescriptor) when the plugin was built
    AbiFingerprint fingerprint;   // the plugin compiler's view of the C++ ABI
    PluginInfo (*info)();         // called only after every check passed
};

/// Symbol every plugin exports (through Boost.DLL's alias).
inline constexpr const char* kDescriptorSymbol = "sockhost_plugin_descriptor";

}  // namespace sockhost::sdk

/// Declares the plugin: INFO_FN is a function `sockhost::sdk::PluginInfo f()`.
/// Use once per shared object, at namespace scope. The exported symbol points
/// at the descriptor object itself, so the host reads it without running any
/// of the plugin's code.
#define SOCKHOST_PLUGIN(INFO_FN)                                                  \
    namespace sockhost_plugin_detail {                                            \
    static ::sockhost::sdk::PluginInfo info_thunk() { return INFO_FN(); }         \
    static const ::sockhost::sdk::PluginDescriptor kDescriptor{                   \
        ::sockhost::sdk::kAbiMagic,   ::sockhost::sdk::kAbiMajor,                 \
        ::sockhost::sdk::kAbiMinor,   sizeof(::sockhost::sdk::PluginDescriptor),  \
        SOCKHOST_ABI_FINGERPRINT_VALUE, &info_thunk};                             \
    }                                                                             \
    BOOST_DLL_ALIAS(sockhost_plugin_detail::kDescriptor, sockhost_plugin_descriptor)
