// The scope argument of Preview and StartExtraction (daemon/bus/requests.cpp): the `numbers`
// key (as) limits messages and calls to those parties; every number is checked, and a wrong
// one is named in an InvalidArgument that says what is allowed.
#include "daemon/bus/requests.hpp"

#include <gtest/gtest.h>

namespace exhibit::bus {
namespace {

ValueMap scope_with(Value numbers) {
    return {{"categories", std::vector<std::string>{"messages", "call_log"}},
            {"numbers", std::move(numbers)}};
}

TEST(ParseScope, NumbersAreKeptAsGiven) {
    auto scope = parse_scope(
        scope_with(std::vector<std::string>{"07700 900123", "+44 (0)7700-900.789", "999"}));
    ASSERT_TRUE(scope) << scope.error().describe();
    EXPECT_EQ(scope->numbers,
              (std::vector<std::string>{"07700 900123", "+44 (0)7700-900.789", "999"}));
    EXPECT_TRUE(scope->includes_party("+447700900123"));
    auto none = parse_scope({{"categories", std::vector<std::string>{"photos"}}});
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->numbers.empty()) << "no numbers: every party";
}

TEST(ParseScope, AWrongNumberIsNamed) {
    for (const auto& bad : {std::string("BANK"), std::string("12"), std::string(21, '1'),
                            std::string("+44 7700 900123 ext 2"), std::string("")}) {
        auto scope = parse_scope(scope_with(std::vector<std::string>{"07700900123", bad}));
        ASSERT_FALSE(scope) << bad;
        EXPECT_EQ(scope.error().code, Errc::invalid_argument);
        EXPECT_NE(scope.error().message.find("\"" + bad + "\" is not a phone number (3 to 20"),
                  std::string::npos)
            << scope.error().message;
    }
    auto control = parse_scope(scope_with(std::vector<std::string>{"0770\n0900123"}));
    ASSERT_FALSE(control);
    EXPECT_NE(control.error().message.find("\"0770?0900123\""), std::string::npos)
        << "quoted without its control character: " << control.error().message;
    auto long_one =
        parse_scope(scope_with(std::vector<std::string>{std::string(500, ' ') + "999"}));
    ASSERT_FALSE(long_one);
    EXPECT_LT(long_one.error().message.size(), 300u) << "not quoted back whole";
}

TEST(ParseScope, AtMostTwentyNumbersAsAList) {
    std::vector<std::string> many;
    for (int i = 0; i < 21; ++i)
        many.push_back("0770090" + std::to_string(1000 + i));
    auto scope = parse_scope(scope_with(many));
    ASSERT_FALSE(scope);
    EXPECT_EQ(scope.error().code, Errc::invalid_argument);
    EXPECT_NE(scope.error().message.find("at most 20 phone numbers, not 21"), std::string::npos)
        << scope.error().message;
    many.pop_back();
    EXPECT_TRUE(parse_scope(scope_with(many)));
    auto text = parse_scope(scope_with(std::string("07700900123")));
    ASSERT_FALSE(text) << "a string, not a list of strings";
    EXPECT_EQ(text.error().code, Errc::invalid_argument);
}

}  // namespace
}  // namespace exhibit::bus
