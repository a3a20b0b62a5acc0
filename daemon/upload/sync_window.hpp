// The nightly sync window of the normal lane, in the kiosk's local time (TZ), as pure
// functions of a time point. start == end means the window never closes. Reentrant.
#pragma once

#include <chrono>
#include <optional>

#include "common/clock.hpp"

namespace exhibit::upload {

struct DailyWindow {
    std::chrono::minutes start{22 * 60};  // minutes after local midnight
    std::chrono::minutes end{6 * 60};

    bool always_open() const { return start == end; }
};

// Minutes after local midnight at `t` (0..1439).
std::chrono::minutes local_minute_of_day(TimePoint t);

bool window_contains(const DailyWindow& window, TimePoint t);

// The next instant after `t` at which the window opens or closes (a whole local minute);
// nullopt when it never changes.
std::optional<TimePoint> next_window_change(const DailyWindow& window, TimePoint t);

}  // namespace exhibit::upload
