#include "sync_window.hpp"

#include <time.h>

namespace exhibit::upload {

using namespace std::chrono;

minutes local_minute_of_day(TimePoint t) {
    const time_t secs = static_cast<time_t>(floor<seconds>(t).time_since_epoch().count());
    struct tm local {};
    localtime_r(&secs, &local);
    return minutes(local.tm_hour * 60 + local.tm_min);
}

bool window_contains(const DailyWindow& w, TimePoint t) {
    if (w.always_open())
        return true;
    const auto m = local_minute_of_day(t);
    if (w.start < w.end)
        return m >= w.start && m < w.end;
    return m >= w.start || m < w.end;
}

std::optional<TimePoint> next_window_change(const DailyWindow& w, TimePoint t) {
    if (w.always_open())
        return std::nullopt;
    const bool open = window_contains(w, t);
    // Walk whole minutes: local time may jump (DST), so the next change is found by asking,
    // not by arithmetic. At most two days of minutes.
    auto probe = floor<minutes>(t) + minutes(1);
    for (int i = 0; i < 2 * 24 * 60; ++i, probe += minutes(1))
        if (window_contains(w, probe) != open)
            return TimePoint(probe);
    return std::nullopt;
}

}  // namespace exhibit::upload
