// The nightly window in local time, including a window across midnight and DST changes.
#include "daemon/upload/sync_window.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/support/upload_fixture.hpp"

namespace exhibit::upload {
namespace {

using namespace std::chrono_literals;
using testing::utc_time;

class SyncWindowTest : public ::testing::Test {
  protected:
    void zone(const char* tz) {
        ::setenv("TZ", tz, 1);
        ::tzset();
    }
    void TearDown() override { zone("UTC"); }
};

TEST_F(SyncWindowTest, OvernightWindowAcrossMidnight) {
    zone("UTC");
    DailyWindow w{22h, 6h};
    EXPECT_FALSE(window_contains(w, utc_time(2026, 3, 1, 21, 59)));
    EXPECT_TRUE(window_contains(w, utc_time(2026, 3, 1, 22, 0)));
    EXPECT_TRUE(window_contains(w, utc_time(2026, 3, 2, 0, 0)));
    EXPECT_TRUE(window_contains(w, utc_time(2026, 3, 2, 5, 59)));
    EXPECT_FALSE(window_contains(w, utc_time(2026, 3, 2, 6, 0)));
    EXPECT_FALSE(window_contains(w, utc_time(2026, 3, 2, 12, 0)));
}

TEST_F(SyncWindowTest, DaytimeWindowAndAlwaysOpen) {
    zone("UTC");
    DailyWindow day{9h, 17h};
    EXPECT_FALSE(window_contains(day, utc_time(2026, 3, 1, 8, 59)));
    EXPECT_TRUE(window_contains(day, utc_time(2026, 3, 1, 9, 0)));
    EXPECT_FALSE(window_contains(day, utc_time(2026, 3, 1, 17, 0)));
    DailyWindow always{0h, 0h};
    EXPECT_TRUE(window_contains(always, utc_time(2026, 3, 1, 13, 0)));
    EXPECT_FALSE(next_window_change(always, utc_time(2026, 3, 1, 13, 0)));
}

TEST_F(SyncWindowTest, NextChangeIsTheNextOpeningOrClosing) {
    zone("UTC");
    DailyWindow w{22h, 6h};
    EXPECT_EQ(next_window_change(w, utc_time(2026, 3, 1, 12, 0)), utc_time(2026, 3, 1, 22, 0));
    EXPECT_EQ(next_window_change(w, utc_time(2026, 3, 1, 23, 30)), utc_time(2026, 3, 2, 6, 0));
}

TEST_F(SyncWindowTest, LocalTimeFollowsTheZoneAndDaylightSaving) {
    zone("Europe/London");
    DailyWindow w{22h, 6h};
    // Summer (BST, UTC+1): 22:00 local is 21:00 UTC.
    EXPECT_TRUE(window_contains(w, utc_time(2026, 7, 1, 21, 0)));
    EXPECT_FALSE(window_contains(w, utc_time(2026, 7, 1, 20, 59)));
    // Winter (GMT): 22:00 local is 22:00 UTC.
    EXPECT_FALSE(window_contains(w, utc_time(2026, 12, 1, 21, 0)));
    EXPECT_TRUE(window_contains(w, utc_time(2026, 12, 1, 22, 0)));
    // The night clocks go back (25 October 2026, 02:00 BST -> 01:00 GMT): closes at 06:00 GMT.
    EXPECT_EQ(next_window_change(w, utc_time(2026, 10, 24, 23, 0)), utc_time(2026, 10, 25, 6, 0));
}

}  // namespace
}  // namespace exhibit::upload
