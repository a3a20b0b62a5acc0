#include "daemon/keys/identity_key.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/fs.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::keys {
namespace {

TEST(IdentityKey, CreatedOnceWithOwnerOnlyModeAndStable) {
    testing::TempDir dir;
    auto file = dir / "keys/kiosk.pem";
    auto key = IdentityKey::load_or_create(file);
    ASSERT_TRUE(key.has_value()) << key.error().describe();
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat(file.parent_path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);

    auto again = IdentityKey::load_or_create(file);
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ((*key)->fingerprint(), (*again)->fingerprint());
    EXPECT_EQ((*key)->fingerprint().rfind("SHA256:", 0), 0u);
    EXPECT_EQ((*key)->fingerprint().size(), 7u + 64u);
}

TEST(IdentityKey, SignatureVerifiesOnlyForSameMessageAndKey) {
    testing::TempDir dir;
    auto a = IdentityKey::load_or_create(dir / "a.pem");
    auto b = IdentityKey::load_or_create(dir / "b.pem");
    ASSERT_TRUE(a && b);
    auto sig = (*a)->sign(std::string_view("manifest bytes"));
    ASSERT_TRUE(sig.has_value());
    EXPECT_TRUE((*a)->public_key().verify(std::string_view("manifest bytes"), *sig));
    EXPECT_FALSE((*a)->public_key().verify(std::string_view("manifest byteS"), *sig));
    EXPECT_FALSE((*b)->public_key().verify(std::string_view("manifest bytes"), *sig));
    auto bad = *sig;
    bad[10] ^= std::byte{1};
    EXPECT_FALSE((*a)->public_key().verify(std::string_view("manifest bytes"), bad));
    EXPECT_FALSE(
        (*a)->public_key().verify(std::string_view("manifest bytes"), std::span(sig->data(), 63)));
}

TEST(IdentityKey, PublicKeyPemRoundTrip) {
    testing::TempDir dir;
    auto key = IdentityKey::load_or_create(dir / "k.pem");
    ASSERT_TRUE(key);
    auto pem = (*key)->public_key().pem();
    EXPECT_NE(pem.find("BEGIN PUBLIC KEY"), std::string::npos);
    auto pub = PublicKey::from_pem(pem);
    ASSERT_TRUE(pub.has_value()) << pub.error().describe();
    EXPECT_EQ(pub->fingerprint(), (*key)->fingerprint());
    auto sig = (*key)->sign(std::string_view("x"));
    EXPECT_TRUE(pub->verify(std::string_view("x"), *sig));
    EXPECT_FALSE(PublicKey::from_pem("not a key").has_value());
}

TEST(IdentityKey, RefusesKeyReadableByOthers) {
    testing::TempDir dir;
    auto file = dir / "k.pem";
    ASSERT_TRUE(IdentityKey::load_or_create(file));
    ASSERT_EQ(::chmod(file.c_str(), 0644), 0);
    auto key = IdentityKey::load_or_create(file);
    ASSERT_FALSE(key.has_value());
    EXPECT_NE(key.error().message.find("0644"), std::string::npos) << key.error().message;
}

TEST(IdentityKey, RefusesGarbage) {
    testing::TempDir dir;
    auto file = dir / "k.pem";
    ASSERT_TRUE(fs::write_file_atomic(file, "-----BEGIN PRIVATE KEY-----\nAAAA\n", 0600));
    auto key = IdentityKey::load(file);
    ASSERT_FALSE(key.has_value());
    EXPECT_EQ(key.error().code, Errc::crypto);
}

}  // namespace
}  // namespace exhibit::keys
