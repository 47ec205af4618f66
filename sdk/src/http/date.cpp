// SPDX-License-Identifier: MIT
// HTTP dates (RFC 9110 5.6.7).
#include "sockhost/sdk/http/date.hpp"

#include "sockhost/sdk/utc_time.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <vector>

#include "sockhost/sdk/http/ascii.hpp"

namespace sockhost::sdk::http {

namespace {

constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/// 0..11 for "Jan".."Dec" (case-sensitive, RFC 9110 5.6.7), else -1.
int month_index(std::string_view m) {
    for (int i = 0; i < 12; ++i)
        if (m == kMonths[i]) return i;
    return -1;
}

/// Exactly `digits` decimal digits.
bool parse_int_exact(std::string_view s, std::size_t digits, int& out) {
    if (s.size() != digits) return false;
    int v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    out = v;
    return true;
}

/// "HH:MM:SS", with 60 seconds allowed (a leap second).
bool parse_clock(std::string_view s, int& h, int& m, int& sec) {
    return s.size() == 8 && s[2] == ':' && s[5] == ':' && parse_int_exact(s.substr(0, 2), 2, h) &&
           parse_int_exact(s.substr(3, 2), 2, m) && parse_int_exact(s.substr(6, 2), 2, sec) &&
           h < 24 && m < 60 && sec <= 60;
}

/// The words of `s` between runs of spaces.
std::vector<std::string_view> split_spaces(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && s[i] == ' ') ++i;
        std::size_t j = i;
        while (j < s.size() && s[j] != ' ') ++j;
        if (j > i) out.push_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

}  // namespace

std::string format_http_date(std::int64_t t) {
    // IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT".
    const UtcTime u = utc_time(t);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[u.weekday % 7], u.day,
                  kMonths[(u.month - 1) % 12], u.year, u.hour, u.minute, u.second);
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

std::optional<std::int64_t> parse_http_date(std::string_view text) {
    int year = 0, mon = -1, day = 0, h = 0, m = 0, s = 0;
    std::vector<std::string_view> w = split_spaces(trim_ows(text));
    if (w.size() == 6 && w[0].size() == 4 && w[0].back() == ',' && w[5] == "GMT") {
        // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
        if (!parse_int_exact(w[1], 2, day) || (mon = month_index(w[2])) < 0 ||
            !parse_int_exact(w[3], 4, year) || !parse_clock(w[4], h, m, s))
            return std::nullopt;
    } else if (w.size() == 4 && w[0].size() > 1 && w[0].back() == ',' && w[3] == "GMT") {
        // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT (RFC 9110 5.6.7: a two-digit
        // year more than 50 years ahead is in the past century).
        std::string_view d = w[1];
        if (d.size() != 9 || d[2] != '-' || d[6] != '-' || !parse_int_exact(d.substr(0, 2), 2, day) ||
            (mon = month_index(d.substr(3, 3))) < 0 || !parse_int_exact(d.substr(7, 2), 2, year) ||
            !parse_clock(w[2], h, m, s))
            return std::nullopt;
        const int this_year = utc_time(static_cast<std::int64_t>(std::time(nullptr))).year;
        year += (this_year / 100) * 100;
        if (year > this_year + 50) year -= 100;
    } else if (w.size() == 5) {
        // asctime: Sun Nov  6 08:49:37 1994
        if ((mon = month_index(w[1])) < 0 || w[2].empty() || w[2].size() > 2 ||
            !parse_int_exact(w[2], w[2].size(), day) || !parse_clock(w[3], h, m, s) ||
            !parse_int_exact(w[4], 4, year))
            return std::nullopt;
    } else {
        return std::nullopt;
    }
    if (day < 1 || day > 31) return std::nullopt;
    return utc_seconds(year, mon + 1, day, h, m, s > 59 ? 59 : s);
}

}  // namespace sockhost::sdk::http
