// exhibitctl's a{sv} values: typed access, JSON, and the D-Bus encoding both ways.
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tools/exhibitctl/bus_client.hpp"
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

// A bus on one end of a socketpair is enough to build and read messages offline.
class ExhibitctlValuesOffline : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds_), 0);
        sd_bus* raw = nullptr;
        ASSERT_GE(sd_bus_new(&raw), 0);
        bus_.reset(raw);
        ASSERT_GE(sd_bus_set_fd(raw, fds_[0], fds_[0]), 0);
        ASSERT_GE(sd_bus_start(raw), 0);
    }
    void TearDown() override { ::close(fds_[1]); }

    MessagePtr sealed(const ValueMap& map) {
        sd_bus_message* m = nullptr;
        EXPECT_GE(sd_bus_message_new_method_call(bus_.get(), &m, "org.exhibit.Exhibit1",
                                                 "/org/exhibit/Exhibit1",
                                                 "org.exhibit.Exhibit1.Manager", "Preview"),
                  0);
        MessagePtr owned(m);
        EXPECT_GE(append_dict(m, map), 0);
        EXPECT_GE(sd_bus_message_seal(m, 1, 0), 0);
        EXPECT_GE(sd_bus_message_rewind(m, 1), 0);
        return owned;
    }

    int fds_[2] = {-1, -1};
    BusPtr bus_;
};

TEST_F(ExhibitctlValuesOffline, ScopeTravelsAsTheApiExpects) {
    ValueMap scope = {{"categories", std::vector<std::string>{"photos", "videos"}},
                      {"from", std::string("2026-01-01")}};
    auto m = sealed(scope);
    EXPECT_STREQ(sd_bus_message_get_signature(m.get(), 1), "a{sv}");
    ASSERT_GE(sd_bus_message_enter_container(m.get(), 'a', "{sv}"), 0);
    ASSERT_GT(sd_bus_message_enter_container(m.get(), 'e', "sv"), 0);
    const char* key = nullptr;
    ASSERT_GE(sd_bus_message_read(m.get(), "s", &key), 0);
    EXPECT_STREQ(key, "categories");
    const char* contents = nullptr;
    ASSERT_GE(sd_bus_message_peek_type(m.get(), nullptr, &contents), 0);
    EXPECT_STREQ(contents, "as") << "categories is a list of strings";
}

TEST_F(ExhibitctlValuesOffline, EveryValueTypeRoundTrips) {
    ValueMap all = {{"s", std::string("text")},
                    {"as", std::vector<std::string>{"a", "b"}},
                    {"empty", std::vector<std::string>{}},
                    {"b", true},
                    {"t", std::uint64_t{1} << 40},
                    {"x", std::int64_t{-5}},
                    {"d", 0.25}};
    auto m = sealed(all);
    auto back = read_dict(m.get());
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(*back, all);
}

}  // namespace
}  // namespace exhibit::ctl
