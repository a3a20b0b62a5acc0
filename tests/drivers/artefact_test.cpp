// The scope's phone numbers (drivers/artefact.hpp): how numbers written by an officer and
// stored by a phone are read and compared, and which records a scope with numbers takes.
#include "drivers/artefact.hpp"

#include <gtest/gtest.h>

namespace exhibit::drivers {
namespace {

using Prefix = PhoneNumber::Prefix;

bool same(std::string_view a, std::string_view b) {
    auto x = parse_phone_number(a), y = parse_phone_number(b);
    EXPECT_TRUE(x) << a;
    EXPECT_TRUE(y) << b;
    return x && y && same_number(*x, *y);
}

TEST(PhoneNumber, SeparatorsAreIgnoredAndThePrefixIsKept) {
    auto n = parse_phone_number("+44 (7700) 900-12.3");
    ASSERT_TRUE(n);
    EXPECT_EQ(n->prefix, Prefix::international);
    EXPECT_EQ(n->digits, "447700900123");
    EXPECT_EQ(parse_phone_number("0044 7700 900123")->digits, "447700900123");
    EXPECT_EQ(parse_phone_number("0044 7700 900123")->prefix, Prefix::international);
    EXPECT_EQ(parse_phone_number("07700 900123")->prefix, Prefix::national);
    EXPECT_EQ(parse_phone_number("07700 900123")->digits, "7700900123");
    EXPECT_EQ(parse_phone_number("999")->prefix, Prefix::none);
    EXPECT_EQ(parse_phone_number("+44 (0)7700 900123")->digits, "447700900123")
        << "the written trunk prefix is not part of the number";
}

TEST(PhoneNumber, AnythingElseIsNotANumber) {
    for (auto bad :
         {"", "BANK", "12", "+", "+ 12", "123456789012345678901", "+44+7700900123", "44+7700900123",
          "07700 900123 ext 4", "*#06#", "0770090012\n3", "07700_900123"})
        EXPECT_FALSE(parse_phone_number(bad)) << '"' << bad << '"';
    EXPECT_TRUE(parse_phone_number("12345678901234567890")) << "20 digits";
    EXPECT_TRUE(parse_phone_number("112")) << "3 digits";
}

TEST(PhoneNumber, InternationalAndNationalFormsOfOneLineAreTheSame) {
    EXPECT_TRUE(same("+447700900123", "07700900123"));
    EXPECT_TRUE(same("+447700900123", "00447700900123"));
    EXPECT_TRUE(same("00447700900123", "07700 900 123"));
    EXPECT_TRUE(same("+44 (0)7700 900123", "(07700) 900-123"));
    EXPECT_TRUE(same("+1 (555) 010-9999", "001 555 010 9999"));
    EXPECT_TRUE(same("999", "999"));
    EXPECT_TRUE(same("447700900123", "+447700900123")) << "same digits, one without prefix";
    EXPECT_FALSE(same("+447700900123", "07700900124"));
    EXPECT_FALSE(same("+447700900123", "+337700900123")) << "another country";
    EXPECT_FALSE(same("+447700900123", "0900123")) << "only a tail of it";
    EXPECT_FALSE(same("07700900123", "7700900123")) << "no prefix is not a national prefix";
    EXPECT_FALSE(same("999", "0999"));
}

TEST(Scope, WhatAFamilyDoesNotOfferIsRefusedWithItsReason) {
    const Category files[] = {Category::photos, Category::videos};
    EXPECT_TRUE(refuse_unoffered({.categories = {Category::videos}}, files, "files only"));
    auto refused =
        refuse_unoffered({.categories = {Category::photos, Category::cctv_export}}, files,
                         "a phone has no CCTV export");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, Errc::unsupported);
    EXPECT_EQ(refused.error().message, "cctv_export cannot be taken: a phone has no CCTV export");
    EXPECT_EQ(category_from("disk_image"), Category::disk_image);
    EXPECT_EQ(to_string(Category::cctv_export), "cctv_export");
}

TEST(Scope, NumbersLimitThePartiesOnly) {
    Scope all{.categories = {Category::messages}};
    EXPECT_TRUE(all.includes_party(std::nullopt)) << "no numbers: every record";
    EXPECT_TRUE(all.includes_party("BANK"));
    Scope some{.categories = {Category::messages}, .numbers = {"07700 900123", "999"}};
    EXPECT_TRUE(some.includes_party("+447700900123"));
    EXPECT_TRUE(some.includes_party("0044-7700-900-123"));
    EXPECT_TRUE(some.includes_party("999"));
    EXPECT_FALSE(some.includes_party("+447700900456"));
    EXPECT_FALSE(some.includes_party("BANK")) << "not a number: not one of them";
    EXPECT_FALSE(some.includes_party(std::nullopt)) << "no number: not one of them";
    EXPECT_FALSE(some.includes_party(""));
}

}  // namespace
}  // namespace exhibit::drivers
