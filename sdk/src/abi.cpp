// SPDX-License-Identifier: MIT
// ABI fingerprint helpers and the key functions of the SDK's exception types.
#include "sockhost/sdk/abi.hpp"

#include <cstring>

#include "sockhost/sdk/errors.hpp"

namespace sockhost::sdk {

bool same_abi(const AbiFingerprint& a, const AbiFingerprint& b) {
    return a.toolchain != nullptr && b.toolchain != nullptr &&
           std::strcmp(a.toolchain, b.toolchain) == 0 && a.size_string == b.size_string &&
           a.size_function == b.size_function && a.size_shared_ptr == b.size_shared_ptr &&
           a.size_vector == b.size_vector && a.size_exception_ptr == b.size_exception_ptr &&
           a.size_long_double == b.size_long_double;
}

std::string describe(const AbiFingerprint& f) {
    std::string s = f.toolchain ? f.toolchain : "(null)";
    s += "; sizes string " + std::to_string(f.size_string) + " function " +
         std::to_string(f.size_function) + " shared_ptr " + std::to_string(f.size_shared_ptr) +
         " vector " + std::to_string(f.size_vector) + " exception_ptr " +
         std::to_string(f.size_exception_ptr) + " long double " +
         std::to_string(f.size_long_double);
    return s;
}

AbiFingerprint sdk_fingerprint() { return SOCKHOST_ABI_FINGERPRINT_VALUE; }

HandlerError::HandlerError(const std::string& message) : std::runtime_error(message) {}
HandlerError::~HandlerError() = default;

TimeoutError::TimeoutError(const std::string& what)
    : std::system_error(std::make_error_code(std::errc::timed_out), what) {}
TimeoutError::~TimeoutError() = default;

}  // namespace sockhost::sdk
