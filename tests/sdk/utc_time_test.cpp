// SPDX-License-Identifier: MIT
// UTC calendar arithmetic against the C library's gmtime_r and timegm.
#include <gtest/gtest.h>

#include <ctime>
#include <regex>

#include "sockhost/sdk/utc_time.hpp"

namespace sockhost::sdk {
namespace {

TEST(UtcTime, AgreesWithGmtimeAcrossCenturiesLeapDaysAndNegativeTimes) {
    const std::int64_t samples[] = {0,          -1,         59,          86399,       86400,      951782400,
                                    951868799,  951868800,  4107542400,  4107542399,  784111777,  -2208988800,
                                    1700000000, 253402300799};
    for (std::int64_t s : samples) {
        const std::time_t t = static_cast<std::time_t>(s);
        std::tm tm{};
        ASSERT_NE(gmtime_r(&t, &tm), nullptr);
        const UtcTime u = utc_time(s);
        EXPECT_EQ(u.year, tm.tm_year + 1900) << s;
        EXPECT_EQ(u.month, tm.tm_mon + 1) << s;
        EXPECT_EQ(u.day, tm.tm_mday) << s;
        EXPECT_EQ(u.hour, tm.tm_hour) << s;
        EXPECT_EQ(u.minute, tm.tm_min) << s;
        EXPECT_EQ(u.second, tm.tm_sec) << s;
        EXPECT_EQ(u.weekday, tm.tm_wday) << s;
        EXPECT_EQ(utc_seconds(u.year, u.month, u.day, u.hour, u.minute, u.second), s);
    }
    // Every day of 2000-2003 (a leap year that a century rule could miss).
    for (std::int64_t s = 946684800; s < 1072915200; s += 86400 + 3601) {
        const std::time_t t = static_cast<std::time_t>(s);
        std::tm tm{};
        gmtime_r(&t, &tm);
        const UtcTime u = utc_time(s);
        ASSERT_EQ(u.day, tm.tm_mday) << s;
        ASSERT_EQ(u.month, tm.tm_mon + 1) << s;
        ASSERT_EQ(u.weekday, tm.tm_wday) << s;
    }
}

TEST(UtcTime, TimestampIsRfc3339WithMilliseconds) {
    EXPECT_TRUE(std::regex_match(utc_timestamp_now(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
        << utc_timestamp_now();
}

}  // namespace
}  // namespace sockhost::sdk
