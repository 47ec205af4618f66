// SPDX-License-Identifier: MIT
// The SDK's binary contract: version numbers, export macro and the C++ ABI
// fingerprint every plugin is stamped with at build time.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/version.hpp>

/// Marks a class or function that crosses the host/plugin boundary. Every SDK
/// class with a vtable, typeinfo or exception type must carry it: plugins are
/// built with -fvisibility=hidden and would otherwise get private copies.
#define SOCKHOST_SDK_API __attribute__((visibility("default")))

#define SOCKHOST_STR_2(x) #x
#define SOCKHOST_STR(x) SOCKHOST_STR_2(x)

#if defined(__clang__)
#define SOCKHOST_COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define SOCKHOST_COMPILER "gcc " __VERSION__
#else
#define SOCKHOST_COMPILER "unknown"
#endif

/// Compiler, standard library and Boost a translation unit is built with.
#define SOCKHOST_ABI_TOOLCHAIN                                                         \
    SOCKHOST_COMPILER "; libstdc++ " SOCKHOST_STR(_GLIBCXX_RELEASE) " cxx11-abi " SOCKHOST_STR( \
        _GLIBCXX_USE_CXX11_ABI) "; boost " BOOST_LIB_VERSION "; lp" SOCKHOST_STR(__SIZEOF_POINTER__)

namespace sockhost::sdk {

/// First word of every plugin descriptor: "SKHP". Anything else is not ours.
inline constexpr std::uint32_t kAbiMagic = 0x504b4853u;
/// Bumped on any change to a type that crosses the boundary; must match exactly.
inline constexpr std::uint32_t kAbiMajor = 2;
/// Bumped on backward-compatible additions; the host's must be >= the plugin's.
inline constexpr std::uint32_t kAbiMinor = 1;   // 2.1: AccessRecord::unflushed_bytes
/// SDK release, for logs and --version.
inline constexpr const char* kSdkVersion = "0.1.0";

/// Plain data describing the C++ ABI a binary was compiled for. C++ plugins
/// break silently (not at load time) when any of these differ, so the host
/// compares every field before it calls into a plugin.
struct AbiFingerprint {
    const char* toolchain;           // SOCKHOST_ABI_TOOLCHAIN
    std::uint16_t size_string;       // sizeof(std::string)
    std::uint16_t size_function;     // sizeof(std::function<void()>)
    std::uint16_t size_shared_ptr;   // sizeof(std::shared_ptr<int>)
    std::uint16_t size_vector;       // sizeof(std::vector<int>)
    std::uint16_t size_exception_ptr;// sizeof(std::exception_ptr)
    std::uint16_t size_long_double;  // sizeof(long double)
};

/// The fingerprint of the translation unit that expands this (inline, so a
/// plugin gets its own compiler's answer, not the host's).
#define SOCKHOST_ABI_FINGERPRINT_VALUE                                          \
    ::sockhost::sdk::AbiFingerprint {                                           \
        SOCKHOST_ABI_TOOLCHAIN, sizeof(std::string), sizeof(std::function<void()>), \
            sizeof(std::shared_ptr<int>), sizeof(std::vector<int>),             \
            sizeof(std::exception_ptr), sizeof(long double)                     \
    }

/// Equal in every field?
SOCKHOST_SDK_API bool same_abi(const AbiFingerprint& a, const AbiFingerprint& b);
/// One line, e.g. "gcc 12.2.0; libstdc++ 12 cxx11-abi 1; boost 1_74; lp8; string 32 function 32 ...".
SOCKHOST_SDK_API std::string describe(const AbiFingerprint& f);
/// The fingerprint libsockhost_sdk itself was built with (what the host expects).
SOCKHOST_SDK_API AbiFingerprint sdk_fingerprint();

}  // namespace sockhost::sdk
