// --scenario: every hostile rule parses onto its path; mistakes are refused, never thrown.
#include "phonesim/scenario.hpp"

#include <gtest/gtest.h>

namespace exhibit::phonesim {
namespace {

TEST(PhonesimScenario, EveryActionTargetsItsPath) {
    auto s = parse_scenario(R"({"rules": [
      {"path": "/sdcard/DCIM", "action": "inject_names",
       "names": ["..", "a/b", "bell\u0007.jpg"], "names_hex": ["ff fe 2e 6a", "61 00 62"]},
      {"path": "/sdcard/DCIM/a.jpg", "action": "declare_size", "size": 5000000000},
      {"path": "/sdcard/DCIM/b.jpg", "action": "stall_after", "bytes": 65536},
      {"path": "/sdcard/DCIM/c.jpg", "action": "disconnect_after", "bytes": 0},
      {"path": "/sdcard/Download", "action": "list_forever"},
      {"path": "/sdcard/DCIM/d.jpg", "action": "oversized_message"},
      {"path": "/sdcard/DCIM/e.jpg", "action": "bad_magic"}]})");
    ASSERT_TRUE(s) << s.error().describe();
    auto names = s->injected_names.at("/sdcard/DCIM");
    ASSERT_EQ(names.size(), 5u);
    EXPECT_EQ(names[0], "..");
    EXPECT_EQ(names[1], "a/b");
    EXPECT_EQ(names[2], "bell\x07.jpg");
    EXPECT_EQ(names[3], "\xff\xfe.j");
    EXPECT_EQ(names[4], std::string("a\0b", 3));
    EXPECT_EQ(s->declared_size.at("/sdcard/DCIM/a.jpg"), 5000000000u);
    EXPECT_EQ(s->stall_after.at("/sdcard/DCIM/b.jpg"), 65536u);
    EXPECT_EQ(s->disconnect_after.at("/sdcard/DCIM/c.jpg"), 0u);
    EXPECT_TRUE(s->list_forever.contains("/sdcard/Download"));
    EXPECT_TRUE(s->oversized_message.contains("/sdcard/DCIM/d.jpg"));
    EXPECT_TRUE(s->bad_magic.contains("/sdcard/DCIM/e.jpg"));
    EXPECT_FALSE(s->stall_after.contains("/sdcard/DCIM/a.jpg"));
}

TEST(PhonesimScenario, MistakesAreErrorsNotExceptions) {
    for (std::string_view bad :
         {"", "[]", R"({"rules": {}})", R"({"rules": [{"action": "bad_magic"}]})",
          R"({"rules": [{"path": "/sdcard/x", "action": "explode"}]})",
          R"({"rules": [{"path": "/sdcard/x", "action": "stall_after"}]})",
          R"({"rules": [{"path": "/sdcard/x", "action": "stall_after", "bytes": -1}]})",
          R"({"rules": [{"path": "/sdcard/x", "action": "declare_size", "size": "9"}]})",
          R"({"rules": [{"path": "/sdcard/x", "action": "inject_names", "names_hex": ["zz"]}]})",
          R"({"rules": [{"path": "/sdcard/x", "action": "inject_names", "names": [1]}]})",
          R"({"rules": [{"path": "/sdcard/x", "action": "inject_names", "names": "x"}]})",
          R"({"rules": [{"path": "/sdcard/x", "action": "inject_names", "names_hex": [7]}]})",
          R"({"rules": [1]})"}) {
        auto s = parse_scenario(bad);
        ASSERT_FALSE(s) << bad;
        EXPECT_EQ(s.error().code, Errc::invalid_argument) << bad;
        EXPECT_NE(s.error().message.find("scenario"), std::string::npos) << bad;
    }
    EXPECT_TRUE(parse_scenario(R"({"rules": []})"));
}

}  // namespace
}  // namespace exhibit::phonesim
