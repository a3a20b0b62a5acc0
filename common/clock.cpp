#include "clock.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace exhibit {

namespace {
class SystemClock final : public Clock {
  public:
    TimePoint now() const override {
        return std::chrono::time_point_cast<std::chrono::milliseconds>(
            std::chrono::system_clock::now());
    }
};
}  // namespace

const Clock& Clock::system() {
    static const SystemClock clock;
    return clock;
}

std::string format_utc_ms(TimePoint t) {
    auto secs = std::chrono::floor<std::chrono::seconds>(t);
    auto ms = (t - secs).count();
    return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", secs, ms);
}

std::int64_t to_unix_ms(TimePoint t) {
    return t.time_since_epoch().count();
}

std::optional<std::int64_t> device_time_ms(std::int64_t seconds, std::int64_t nanoseconds) {
    std::int64_t ms = 0;
    if (__builtin_mul_overflow(seconds, std::int64_t{1000}, &ms) ||
        __builtin_add_overflow(ms, nanoseconds / 1'000'000, &ms))
        return std::nullopt;
    return ms;
}

TimePoint from_unix_ms(std::int64_t ms) {
    return TimePoint(std::chrono::milliseconds(ms));
}

}  // namespace exhibit
