// exhibitctl's a{sv} values: typed access and JSON. (Their D-Bus encoding both ways is the
// shared codec's: tests/common/bus_value_test.cpp.)
#include <gtest/gtest.h>

#include "tools/exhibitctl/values.hpp"

namespace exhibit::ctl {
namespace {

TEST(ExhibitctlValues, TypedAccessToleratesAbsentAndOtherTypes) {
    ValueMap m = {{"t", std::uint64_t{7}},
                  {"x", std::int64_t{-2}},
                  {"s", std::string("v")},
                  {"b", true},
                  {"d", 0.5},
                  {"as", std::vector<std::string>{"a"}}};
    EXPECT_EQ(u64_of(m, "t"), 7u);
    EXPECT_EQ(u64_of(m, "x"), 0u) << "negative is not a count";
    EXPECT_EQ(i64_of(m, "t"), 7);
    EXPECT_EQ(double_of(m, "t"), 7.0);
    EXPECT_EQ(text_of(m, "t"), "");
    EXPECT_EQ(text_of(m, "missing"), "");
    EXPECT_TRUE(bool_of(m, "b"));
    EXPECT_EQ(strings_of(m, "as").size(), 1u);
    ValueMap changed = {{"t", std::uint64_t{8}}, {"new", std::string("n")}};
    merge(m, changed);
    EXPECT_EQ(u64_of(m, "t"), 8u);
    EXPECT_EQ(text_of(m, "new"), "n");
    EXPECT_EQ(to_json(m)["as"][0], "a");
}

}  // namespace
}  // namespace exhibit::ctl
