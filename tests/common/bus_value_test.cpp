// The one a{sv} codec: values through real sd-bus messages both ways, a caller's arguments
// read strictly (types the API does not take refused by name), replies read tolerantly
// (unknown types skipped), and input that is not an a{sv} refused without a crash.
#include "common/bus_value.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "common/bus_handles.hpp"

namespace exhibit {
namespace {

using Strings = std::vector<std::string>;

// A bus on one end of a socketpair is enough to build and read messages offline.
class BusValue : public ::testing::Test {
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

    MessagePtr message() {
        sd_bus_message* m = nullptr;
        EXPECT_GE(sd_bus_message_new_method_call(bus_.get(), &m, "org.exhibit.Exhibit1",
                                                 "/org/exhibit/Exhibit1",
                                                 "org.exhibit.Exhibit1.Manager", "Preview"),
                  0);
        return MessagePtr(m);
    }
    // Seals `m` and puts its read position at its first argument.
    static void seal(sd_bus_message* m) {
        EXPECT_GE(sd_bus_message_seal(m, 1, 0), 0);
        EXPECT_GE(sd_bus_message_rewind(m, 1), 0);
    }
    MessagePtr sealed(const ValueMap& map) {
        auto m = message();
        EXPECT_GE(append_value_map(m.get(), map), 0);
        seal(m.get());
        return m;
    }
    // A message whose one argument is an a{sv} with the entries `add` appends.
    template <class Add>
    MessagePtr with_entries(Add&& add) {
        auto m = message();
        EXPECT_GE(sd_bus_message_open_container(m.get(), 'a', "{sv}"), 0);
        add(m.get());
        EXPECT_GE(sd_bus_message_close_container(m.get()), 0);
        seal(m.get());
        return m;
    }

    int fds_[2] = {-1, -1};
    BusPtr bus_;
};

TEST_F(BusValue, ScopeTravelsAsTheApiExpects) {
    ValueMap scope = {{"categories", Strings{"photos", "videos"}},
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

TEST_F(BusValue, EveryValueTypeRoundTrips) {
    ValueMap all = {
        {"s", std::string("text")},    {"as", Strings{"a", "b"}}, {"empty", Strings{}}, {"b", true},
        {"t", std::uint64_t{1} << 40}, {"x", std::int64_t{-5}},   {"d", 0.25}};
    auto m = sealed(all);
    auto back = read_value_map(m.get(), Reading::replies);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(*back, all);
}

TEST_F(BusValue, ACallersArgumentsRoundTripButADoubleIsRefused) {
    ValueMap args = {{"case_reference", std::string("CR/1")},
                     {"categories", Strings{"photos"}},
                     {"urgent", false},
                     {"t", std::uint64_t{7}},
                     {"x", std::int64_t{-7}}};
    auto m = sealed(args);
    auto back = read_value_map(m.get(), Reading::arguments);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(*back, args);

    args["rate"] = 1.5;
    auto with_double = sealed(args);
    auto refused = read_value_map(with_double.get(), Reading::arguments);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, Errc::invalid_argument);
    EXPECT_EQ(refused.error().message, "rate: values of type d are not accepted");
}

TEST_F(BusValue, AnEmptyMapRoundTrips) {
    auto m = sealed({});
    EXPECT_STREQ(sd_bus_message_get_signature(m.get(), 1), "a{sv}");
    auto back = read_value_map(m.get());
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_TRUE(back->empty());
}

TEST_F(BusValue, SmallIntegersWidenToTheApiTypes) {
    auto m = with_entries([](sd_bus_message* w) {
        EXPECT_GE(sd_bus_message_append(w, "{sv}", "u", "u", std::uint32_t{4000000000}), 0);
        EXPECT_GE(sd_bus_message_append(w, "{sv}", "i", "i", std::int32_t{-3}), 0);
    });
    auto args = read_value_map(m.get(), Reading::arguments);
    ASSERT_TRUE(args) << args.error().message;
    EXPECT_EQ(*args, (ValueMap{{"u", std::uint64_t{4000000000}}, {"i", std::int64_t{-3}}}));

    auto r = with_entries([](sd_bus_message* w) {
        EXPECT_GE(sd_bus_message_append(w, "{sv}", "y", "y", std::uint8_t{200}), 0);
        EXPECT_GE(sd_bus_message_append(w, "{sv}", "q", "q", std::uint16_t{0x18d1}), 0);
        EXPECT_GE(sd_bus_message_append(w, "{sv}", "n", "n", std::int16_t{-2}), 0);
    });
    auto replies = read_value_map(r.get(), Reading::replies);
    ASSERT_TRUE(replies) << replies.error().message;
    EXPECT_EQ(*replies, (ValueMap{{"y", std::uint64_t{200}},
                                  {"q", std::uint64_t{0x18d1}},
                                  {"n", std::int64_t{-2}}}));
}

// Appends one entry "k" whose variant has `signature`, written by `add`.
struct Odd {
    std::string signature;
    std::function<int(sd_bus_message*)> add;
};
std::vector<Odd> odd_values() {
    return {
        {"o", [](auto* m) { return sd_bus_message_append(m, "{sv}", "k", "o", "/a/b"); }},
        {"g", [](auto* m) { return sd_bus_message_append(m, "{sv}", "k", "g", "a{sv}"); }},
        {"ao", [](auto* m) { return sd_bus_message_append(m, "{sv}", "k", "ao", 1, "/a"); }},
        {"y", [](auto* m) { return sd_bus_message_append(m, "{sv}", "k", "y", 1); }},
        {"q", [](auto* m) { return sd_bus_message_append(m, "{sv}", "k", "q", 1); }},
        {"n", [](auto* m) { return sd_bus_message_append(m, "{sv}", "k", "n", 1); }},
        {"d", [](auto* m) { return sd_bus_message_append(m, "{sv}", "k", "d", 0.5); }},
        {"ai", [](auto* m) { return sd_bus_message_append(m, "{sv}", "k", "ai", 2, 1, 2); }},
        {"v", [](auto* m) { return sd_bus_message_append(m, "{sv}", "k", "v", "s", "x"); }},
        {"a{sv}",
         [](auto* m) {
             return sd_bus_message_append(m, "{sv}", "k", "a{sv}", 1, "inner", "s", "x");
         }},
        {"(st)",
         [](auto* m) {
             return sd_bus_message_append(m, "{sv}", "k", "(st)", "x", std::uint64_t{1});
         }},
    };
}

TEST_F(BusValue, ArgumentsOfTypesTheApiDoesNotTakeAreRefusedByName) {
    for (const auto& odd : odd_values()) {
        auto m = with_entries([&](sd_bus_message* w) {
            EXPECT_GE(sd_bus_message_append(w, "{sv}", "fine", "s", "x"), 0);
            EXPECT_GE(odd.add(w), 0) << odd.signature;
        });
        auto read = read_value_map(m.get(), Reading::arguments);
        ASSERT_FALSE(read) << odd.signature;
        EXPECT_EQ(read.error().code, Errc::invalid_argument) << odd.signature;
        EXPECT_EQ(read.error().message, "k: values of type " + odd.signature + " are not accepted");
    }
}

TEST_F(BusValue, RepliesReadPathsAndSkipWhatTheyDoNotKnow) {
    auto m = message();
    ASSERT_GE(sd_bus_message_open_container(m.get(), 'a', "{sv}"), 0);
    ASSERT_GE(sd_bus_message_append(m.get(), "{sv}", "path", "o", "/org/exhibit/Exhibit1"), 0);
    ASSERT_GE(sd_bus_message_append(m.get(), "{sv}", "paths", "ao", 2, "/a", "/b"), 0);
    ASSERT_GE(sd_bus_message_append(m.get(), "{sv}", "sig", "g", "a{sv}"), 0);
    ASSERT_GE(sd_bus_message_append(m.get(), "{sv}", "rate", "d", 2.5), 0);
    ASSERT_GE(sd_bus_message_append(m.get(), "{sv}", "nested", "a{sv}", 1, "in", "s", "x"), 0);
    ASSERT_GE(sd_bus_message_append(m.get(), "{sv}", "ints", "ai", 2, 1, 2), 0);
    ASSERT_GE(sd_bus_message_append(m.get(), "{sv}", "boxed", "v", "s", "x"), 0);
    ASSERT_GE(sd_bus_message_append(m.get(), "{sv}", "after", "s", "still read"), 0);
    ASSERT_GE(sd_bus_message_close_container(m.get()), 0);
    ASSERT_GE(sd_bus_message_append(m.get(), "s", "next argument"), 0);
    seal(m.get());

    auto read = read_value_map(m.get(), Reading::replies);
    ASSERT_TRUE(read) << read.error().message;
    EXPECT_EQ(*read, (ValueMap{{"path", std::string("/org/exhibit/Exhibit1")},
                               {"paths", Strings{"/a", "/b"}},
                               {"sig", std::string("a{sv}")},
                               {"rate", 2.5},
                               {"after", std::string("still read")}}));
    const char* next = nullptr;
    ASSERT_GE(sd_bus_message_read(m.get(), "s", &next), 0) << "the map was read to its end";
    EXPECT_STREQ(next, "next argument");
}

TEST_F(BusValue, WhatIsNotAnAsvIsAnErrorNotACrash) {
    auto text = message();
    ASSERT_GE(sd_bus_message_append(text.get(), "s", "not a map"), 0);
    seal(text.get());
    auto read = read_value_map(text.get());
    ASSERT_FALSE(read);
    EXPECT_EQ(read.error().code, Errc::io);
    EXPECT_TRUE(read.error().message.starts_with("expected a{sv}")) << read.error().message;

    auto other_map = message();
    ASSERT_GE(sd_bus_message_append(other_map.get(), "a{ss}", 1, "k", "v"), 0);
    seal(other_map.get());
    EXPECT_FALSE(read_value_map(other_map.get()));

    auto nothing = message();
    seal(nothing.get());
    EXPECT_FALSE(read_value_map(nothing.get(), Reading::replies)) << "no argument left";

    auto once = sealed({{"k", std::string("v")}});
    ASSERT_TRUE(read_value_map(once.get()));
    EXPECT_FALSE(read_value_map(once.get())) << "the map was read already";
}

TEST_F(BusValue, ALaterKeyWins) {
    auto m = with_entries([](sd_bus_message* w) {
        EXPECT_GE(sd_bus_message_append(w, "{sv}", "k", "s", "first"), 0);
        EXPECT_GE(sd_bus_message_append(w, "{sv}", "k", "s", "second"), 0);
    });
    auto read = read_value_map(m.get());
    ASSERT_TRUE(read) << read.error().message;
    EXPECT_EQ(*read, (ValueMap{{"k", std::string("second")}}));
}

TEST_F(BusValue, EntriesTravelInKeyOrder) {
    auto m = sealed({{"restart_required", Strings{}},
                     {"applied", Strings{"daemon.log_level"}},
                     {"problems", Strings{}}});
    ASSERT_GE(sd_bus_message_enter_container(m.get(), 'a', "{sv}"), 0);
    for (const char* expected : {"applied", "problems", "restart_required"}) {
        const char* key = nullptr;
        ASSERT_GT(sd_bus_message_enter_container(m.get(), 'e', "sv"), 0);
        ASSERT_GE(sd_bus_message_read(m.get(), "s", &key), 0);
        EXPECT_STREQ(key, expected);
        ASSERT_GE(sd_bus_message_skip(m.get(), "v"), 0);
        ASSERT_GE(sd_bus_message_exit_container(m.get()), 0);
    }
    EXPECT_EQ(sd_bus_message_enter_container(m.get(), 'e', "sv"), 0) << "three entries";
}

TEST_F(BusValue, AppendingFailsWithTheErrnoOnASealedMessage) {
    auto m = sealed({});
    EXPECT_LT(append_value_map(m.get(), {{"k", std::string("v")}}), 0);
    EXPECT_LT(append_value_map(m.get(), {}), 0);
}

TEST(BusValueAccess, TypedGettersNameTheKey) {
    const ValueMap map = {{"s", std::string("v")}, {"as", Strings{"a"}}, {"t", std::uint64_t{1}}};
    EXPECT_EQ(get_string(map, "s", true).value(), "v");
    EXPECT_EQ(get_string(map, "absent", false).value(), "");
    auto required = get_string(map, "absent", true);
    ASSERT_FALSE(required);
    EXPECT_EQ(required.error().code, Errc::invalid_argument);
    EXPECT_EQ(required.error().message, "\"absent\" is required");
    EXPECT_EQ(get_string(map, "t", false).error().message, "\"t\" must be a string");

    EXPECT_EQ(get_strings(map, "as").value(), Strings{"a"});
    EXPECT_EQ(get_strings(map, "absent").value(), Strings{});
    EXPECT_EQ(get_strings(map, "s").error().message, "\"s\" must be a list of strings");

    EXPECT_TRUE(only_keys(map, {"s", "as", "t"}, "scope"));
    auto unknown = only_keys(map, {"s", "as"}, "scope");
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, Errc::invalid_argument);
    EXPECT_EQ(unknown.error().message, "scope: unknown key \"t\"");
}

TEST(BusValueAccess, ABusErrorCarriesTheErrno) {
    auto e = bus_error(-EBADMSG, "bad a{sv}");
    EXPECT_EQ(e.code, Errc::io);
    EXPECT_EQ(e.sys_errno, EBADMSG);
    EXPECT_TRUE(e.message.starts_with("bad a{sv}: ")) << e.message;
}

}  // namespace
}  // namespace exhibit
