// Time as exhibit writes it and as devices state it: a device's date in seconds becomes
// milliseconds only when that fits; any other number is no date, never an overflow.
#include "common/clock.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace exhibit {
namespace {

TEST(DeviceTime, SecondsAndNanosecondsBecomeMilliseconds) {
    EXPECT_EQ(device_time_ms(1'764'000'000), 1'764'000'000'000);
    EXPECT_EQ(device_time_ms(1'764'000'000, 999'999'999), 1'764'000'000'999);
    EXPECT_EQ(device_time_ms(-1), -1000);  // before 1970: a date all the same
    EXPECT_EQ(device_time_ms(0), 0);
}

TEST(DeviceTime, ANumberNoDateCanBeIsNoDate) {
    constexpr auto max = std::numeric_limits<std::int64_t>::max();
    constexpr auto min = std::numeric_limits<std::int64_t>::min();
    EXPECT_EQ(device_time_ms(max), std::nullopt);
    EXPECT_EQ(device_time_ms(min), std::nullopt);
    EXPECT_EQ(device_time_ms(-1'369'094'284'924'031'719), std::nullopt);  // found by fuzzing
    EXPECT_EQ(device_time_ms(max / 1000), (max / 1000) * 1000);
    EXPECT_EQ(device_time_ms(max / 1000, max), std::nullopt);  // the sum overflows
}

TEST(Clock, FormatsUtcWithMilliseconds) {
    EXPECT_EQ(format_utc_ms(from_unix_ms(1'764'000'000'123)), "2025-11-24T16:00:00.123Z");
}

}  // namespace
}  // namespace exhibit
