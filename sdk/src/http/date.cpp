// SPDX-License-Identifier: MIT
// HTTP dates (RFC 9110 5.6.7).
#include "sockhost/sdk/http/date.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace sockhost::sdk::http {

namespace {
constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
}  // namespace

std::string format_http_date(std::int64_t t) {
    // IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT".
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday % 7],
                  tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    return buf;
}

std::string_view http_date_now() {
    thread_local std::time_t cached_at = -1;
    thread_local char cached[40];
    thread_local std::size_t length = 0;
    std::time_t now = std::time(nullptr);
    if (now != cached_at) {
        const std::string s = format_http_date(static_cast<std::int64_t>(now));
        length = std::min(s.size(), sizeof cached);
        std::memcpy(cached, s.data(), length);
        cached_at = now;
    }
    return {cached, length};
}

}  // namespace sockhost::sdk::http
