// Wall-clock time for records and audit entries. The clock is injectable so schedules and
// retention can be tested; the default reads CLOCK_REALTIME. Implementations are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace exhibit {

using TimePoint = std::chrono::sys_time<std::chrono::milliseconds>;

class Clock {
  public:
    virtual ~Clock() = default;
    virtual TimePoint now() const = 0;
    static const Clock& system();
};

// "2026-11-28T15:48:34.123Z": UTC, milliseconds, always 24 characters.
std::string format_utc_ms(TimePoint t);
std::int64_t to_unix_ms(TimePoint t);
// Seconds (and nanoseconds) since the epoch as a device states them, in milliseconds;
// nullopt when that does not fit in 64 bits: a hostile device's date can be any number.
std::optional<std::int64_t> device_time_ms(std::int64_t seconds, std::int64_t nanoseconds = 0);
TimePoint from_unix_ms(std::int64_t ms);

}  // namespace exhibit
