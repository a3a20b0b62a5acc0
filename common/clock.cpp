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

TimePoint from_unix_ms(std::int64_t ms) {
    return TimePoint(std::chrono::milliseconds(ms));
}

}  // namespace exhibit
