// SPDX-License-Identifier: MIT
// UTC calendar time from seconds since the epoch, and back, without the C
// library: gmtime_r and timegm take glibc's time-zone lock, and a child
// forked while another thread holds it (the forking model in a worker that
// also runs threads) would wait for it forever. Pure arithmetic instead.
#pragma once

#include <cstdint>
#include <string>

#include "sockhost/sdk/abi.hpp"

namespace sockhost::sdk {

struct UtcTime {
    int year;      // 1970 ...
    int month;     // 1-12
    int day;       // 1-31
    int hour;      // 0-23
    int minute;
    int second;
    int weekday;   // 0 = Sunday
};

/// `seconds` since 1970-01-01T00:00:00Z as UTC calendar time (proleptic
/// Gregorian; leap seconds, as POSIX time, do not exist).
SOCKHOST_SDK_API UtcTime utc_time(std::int64_t seconds);

/// Now as RFC 3339 UTC with milliseconds: "2026-12-03T19:48:35.976Z" (log
/// lines' timestamps).
SOCKHOST_SDK_API std::string utc_timestamp_now();

/// The inverse: seconds since the epoch of a UTC calendar time (timegm).
SOCKHOST_SDK_API std::int64_t utc_seconds(int year, int month, int day, int hour, int minute, int second);

}  // namespace sockhost::sdk
