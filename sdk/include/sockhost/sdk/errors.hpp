// SPDX-License-Identifier: MIT
// The exception types that may cross the plugin boundary.
#pragma once

#include <stdexcept>
#include <string>
#include <system_error>

#include "sockhost/sdk/abi.hpp"

namespace sockhost::sdk {

/// A plugin's way to say "this request failed" with a message; the host logs
/// it through handle_error like any other exception.
class SOCKHOST_SDK_API HandlerError : public std::runtime_error {
public:
    explicit HandlerError(const std::string& message);
    ~HandlerError() override;
};

/// An I/O wait on a connection ran past its timeout (errc::timed_out).
class SOCKHOST_SDK_API TimeoutError : public std::system_error {
public:
    explicit TimeoutError(const std::string& what);
    ~TimeoutError() override;
};

}  // namespace sockhost::sdk
