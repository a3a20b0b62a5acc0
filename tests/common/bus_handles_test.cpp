#include "common/bus_handles.hpp"

#include <gtest/gtest.h>

namespace exhibit {
namespace {

TEST(BusHandles, AnAddressWithNoBusIsANamedError) {
    auto bus = open_bus("unix:path=/nonexistent/exhibit-test/bus");
    ASSERT_FALSE(bus);
    EXPECT_EQ(bus.error().code, Errc::io);
    EXPECT_NE(bus.error().sys_errno, 0);
    EXPECT_TRUE(bus.error().message.starts_with(
        "cannot connect to the unix:path=/nonexistent/exhibit-test/bus bus: "))
        << bus.error().message;
}

TEST(BusHandles, BusErrorOwnsWhatACallFillsIn) {
    BusError error;
    EXPECT_FALSE(error.is_set());
    EXPECT_STREQ(error.name(), "");
    EXPECT_STREQ(error.message(), "");
    ASSERT_LT(sd_bus_error_set(error.get(), "org.exhibit.Exhibit1.Error.NotFound", "no session 9"),
              0);
    EXPECT_TRUE(error.is_set());
    EXPECT_STREQ(error.name(), "org.exhibit.Exhibit1.Error.NotFound");
    EXPECT_STREQ(error.message(), "no session 9");
}

}  // namespace
}  // namespace exhibit
