// PIN hashes: salted (two hashes of one PIN differ), checked exactly, damaged ones refused.
#include <gtest/gtest.h>

#include "daemon/officers/pin_hash.hpp"

namespace exhibit::officers {
namespace {

TEST(PinHash, ARightPinMatchesAndAWrongOneDoesNot) {
    auto hash = hash_pin("4821").value();
    EXPECT_TRUE(hash.starts_with("$scrypt$ln=15,r=8,p=1$")) << hash;
    EXPECT_TRUE(pin_matches("4821", hash).value());
    EXPECT_FALSE(pin_matches("4822", hash).value());
    EXPECT_FALSE(pin_matches("48210", hash).value());
    EXPECT_FALSE(pin_matches("", hash).value());
    EXPECT_EQ(hash.find("4821"), std::string::npos) << "the PIN is not in the hash";
}

TEST(PinHash, EveryHashHasItsOwnSalt) {
    EXPECT_NE(hash_pin("1234").value(), hash_pin("1234").value());
}

TEST(PinHash, ADamagedHashIsAnErrorNotAMatch) {
    auto good = hash_pin("1234").value();
    for (std::string bad :
         {std::string(), std::string("1234"), std::string("$scrypt$ln=15,r=8,p=1$AAAA"),
          std::string("$bcrypt$") + good.substr(8), good.substr(0, good.size() - 4),
          std::string("$scrypt$ln=40,r=8,p=1$") + good.substr(good.find("p=1$") + 4),
          good + "$extra"}) {
        auto m = pin_matches("1234", bad);
        ASSERT_FALSE(m) << bad;
        EXPECT_EQ(m.error().code, Errc::invalid_argument) << bad;
    }
}

TEST(PinHash, APinIsFourToTwelveDigits) {
    EXPECT_TRUE(is_valid_pin("0000"));
    EXPECT_TRUE(is_valid_pin("123456789012"));
    for (auto bad : {"", "123", "1234567890123", "12a4", " 1234", "١٢٣٤"})
        EXPECT_FALSE(is_valid_pin(bad)) << bad;
}

}  // namespace
}  // namespace exhibit::officers
