// The phone's adb_keys: which hosts it trusts, and the key waiting for the person to allow it.
#include "phonesim/auth_keys.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "common/fs.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::phonesim {
namespace {

class PhonesimAuthKeys : public ::testing::Test {
  protected:
    void SetUp() override {
        a_ = std::move(*adb::AdbHostKey::load_or_create(dir_ / "a", "a@host"));
        b_ = std::move(*adb::AdbHostKey::load_or_create(dir_ / "b", "b@host"));
    }
    bool signs(const AuthKeys& keys, const adb::AdbHostKey& key) {
        std::array<std::byte, 20> token{};
        token[3] = std::byte{42};
        return keys.verify(token, *key.sign_token(token));
    }
    testing::TempDir dir_;
    std::unique_ptr<adb::AdbHostKey> a_, b_;
};

TEST_F(PhonesimAuthKeys, LoadsAdbKeysWithCommentsAndVerifiesEachKey) {
    std::ofstream(dir_ / "adb_keys") << "# provisioned\n"
                                     << a_->public_key_line() << "\n\n"
                                     << b_->public_key_line().substr(0, 700) << "\tno comment\n";
    auto keys = AuthKeys::load(dir_ / "adb_keys", false);
    ASSERT_TRUE(keys) << keys.error().describe();
    EXPECT_TRUE(signs(**keys, *a_));
    EXPECT_TRUE(signs(**keys, *b_));
    std::array<std::byte, 20> token{};
    std::array<std::byte, 256> junk{};
    EXPECT_FALSE((*keys)->verify(token, junk));
    EXPECT_TRUE((*keys)->is_authorised(a_->public_key_line()));
}

TEST_F(PhonesimAuthKeys, AMissingFileTrustsNobodyAndABadLineIsAnError) {
    auto none = AuthKeys::load(dir_ / "absent", false);
    ASSERT_TRUE(none);
    EXPECT_FALSE(signs(**none, *a_));
    std::ofstream(dir_ / "bad") << "QUFBQQ== x@y\n";
    auto bad = AuthKeys::load(dir_ / "bad", false);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("bad"), std::string::npos);
}

TEST_F(PhonesimAuthKeys, AnOfferedKeyWaitsForThePersonOnceAndIsThenRemembered) {
    auto keys = *AuthKeys::load(dir_ / "adb_keys", false);
    EXPECT_FALSE(keys->offer(a_->public_key_line()));
    EXPECT_FALSE(keys->offer(a_->public_key_line()));  // the host retried
    EXPECT_FALSE(signs(*keys, *a_));
    EXPECT_EQ(keys->allow_pending(), 1u);
    EXPECT_TRUE(signs(*keys, *a_));
    EXPECT_EQ(keys->allow_pending(), 0u);
    EXPECT_EQ(*fs::read_file(dir_ / "adb_keys", 1 << 16), a_->public_key_line() + "\n");
    auto reloaded = AuthKeys::load(dir_ / "adb_keys", false);
    ASSERT_TRUE(reloaded);
    EXPECT_TRUE(signs(**reloaded, *a_));
}

TEST_F(PhonesimAuthKeys, AcceptNewKeysTrustsAtOnce) {
    auto keys = *AuthKeys::load(dir_ / "adb_keys", true);
    EXPECT_TRUE(keys->offer(b_->public_key_line()));
    EXPECT_TRUE(signs(*keys, *b_));
    EXPECT_FALSE(signs(*keys, *a_));
}

}  // namespace
}  // namespace exhibit::phonesim
