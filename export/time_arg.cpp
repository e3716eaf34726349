#include "export/time_arg.h"

#include <fmt/core.h>

#include <charconv>
#include <cmath>
#include <ctime>
#include <string>

namespace spicetap {

namespace {

bool parse_double(std::string_view s, double& out) {
    if (s.empty()) {
        return false;
    }
    const std::string copy(s);
    char* end = nullptr;
    out = std::strtod(copy.c_str(), &end);
    return end == copy.c_str() + copy.size() && std::isfinite(out);
}

// "HH:MM[:SS[.frac]]" -> seconds since midnight.
bool parse_clock(std::string_view s, double& seconds) {
    int h = 0, m = 0;
    double sec = 0;
    const std::string copy(s);
    char tail[64] = {};
    const int n = std::sscanf(copy.c_str(), "%d:%d:%63s", &h, &m, tail);
    if (n < 2 || h < 0 || h > 23 || m < 0 || m > 59) {
        return false;
    }
    if (n == 3 && (!parse_double(tail, sec) || sec < 0 || sec >= 61)) {
        return false;
    }
    if (n == 2 && copy.find(':', copy.find(':') + 1) != std::string::npos) {
        return false;
    }
    seconds = h * 3600.0 + m * 60.0 + sec;
    return true;
}

}  // namespace

Result<int64_t> parse_time_arg(std::string_view text, int64_t start_us, int64_t end_us) {
    if (text == "start") {
        return start_us;
    }
    if (text == "end") {
        return end_us;
    }
    double v = 0;
    if (parse_double(text, v)) {
        return start_us + static_cast<int64_t>(std::llround(v * 1e6));
    }
    // ISO date-time: YYYY-MM-DDTHH:MM:SS[.frac][Z]
    if (text.size() >= 19 && text[4] == '-' && text[10] == 'T') {
        std::tm tm{};
        const std::string date(text.substr(0, 10));
        if (std::sscanf(date.c_str(), "%d-%d-%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) == 3) {
            tm.tm_year -= 1900;
            tm.tm_mon -= 1;
            std::string_view clock = text.substr(11);
            if (!clock.empty() && clock.back() == 'Z') {
                clock.remove_suffix(1);
            }
            double secs = 0;
            if (parse_clock(clock, secs)) {
                const int64_t day = static_cast<int64_t>(timegm(&tm));
                return day * 1000000 + static_cast<int64_t>(std::llround(secs * 1e6));
            }
        }
    }
    double secs = 0;
    if (parse_clock(text, secs)) {
        // A time of day on the session's first (UTC) day; past midnight means the next day.
        const int64_t day_start = (start_us / 86400000000) * 86400000000;
        int64_t t = day_start + static_cast<int64_t>(std::llround(secs * 1e6));
        if (t < start_us - 43200000000) {
            t += 86400000000;
        }
        return t;
    }
    return make_error(Errc::BadValue, 0,
                      fmt::format("cannot read time \"{}\": give seconds from the start (12.5), "
                                  "a UTC time of day (01:12:03.25), an ISO time "
                                  "(2026-11-24T01:12:03Z), start or end",
                                  text));
}

}  // namespace spicetap
