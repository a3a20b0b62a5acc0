#include "drivers/adb/android_pubkey.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include "common/fs.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::adb {
namespace {

std::uint32_t word(std::span<const std::byte> b, std::size_t off) {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i)
        v = v << 8 | std::to_integer<std::uint32_t>(b[off + static_cast<std::size_t>(i)]);
    return v;
}

TEST(AdbHostKey, FilesInAdbsOwnFormats) {
    testing::TempDir dir;
    auto key = AdbHostKey::load_or_create(dir / "adb", "exhibit@kiosk");
    ASSERT_TRUE(key) << key.error().describe();
    auto pem = fs::read_file(dir / "adb/adbkey", 1 << 16).value();
    EXPECT_EQ(pem.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
    struct stat st {};
    ASSERT_EQ(::stat((dir / "adb/adbkey").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    auto pub = fs::read_file(dir / "adb/adbkey.pub", 1 << 16).value();
    auto space = pub.find(' ');
    ASSERT_EQ(space, 700u) << "base64 of 524 bytes is 700 characters";
    EXPECT_EQ(pub.substr(space + 1, 13), "exhibit@kiosk");

    auto raw = base64_decode(pub.substr(0, 700)).value();
    ASSERT_EQ(raw.size(), kAndroidPubkeySize);
    EXPECT_EQ(word(raw, 0), 64u);
    EXPECT_EQ(word(raw, 520), 65537u);
    // n0inv * n[0] == -1 (mod 2^32), as mincrypt-era phones rely on.
    EXPECT_EQ(word(raw, 4) * word(raw, 8), 0xFFFFFFFFu);

    auto again = AdbHostKey::load_or_create(dir / "adb", "exhibit@kiosk");
    ASSERT_TRUE(again);
    EXPECT_EQ((*again)->public_key_line(), (*key)->public_key_line());
}

TEST(AdbHostKey, TokenSignatureVerifiesWithThePublicLine) {
    testing::TempDir dir;
    auto key = AdbHostKey::load_or_create(dir.path(), "k@h").value();
    std::array<std::byte, 20> token{};
    for (std::size_t i = 0; i < token.size(); ++i)
        token[i] = static_cast<std::byte>(i * 13);
    auto sig = key->sign_token(token);
    ASSERT_TRUE(sig);
    auto pub = AdbPublicKey::parse(key->public_key_line() + "\n");
    ASSERT_TRUE(pub) << pub.error().describe();
    EXPECT_TRUE(pub->verify_token(token, *sig));
    auto other = token;
    other[0] ^= std::byte{1};
    EXPECT_FALSE(pub->verify_token(other, *sig));
    EXPECT_FALSE(key->sign_token(std::span(token.data(), 19)));
}

TEST(AdbHostKey, AcceptsPkcs1PrivateKeyFromStandardTools) {
    testing::TempDir dir;
    auto pkcs8 = AdbHostKey::load_or_create(dir / "a", "x@y").value();
    // Rewrite the key as PKCS#1 ("BEGIN RSA PRIVATE KEY") with the openssl tool, as a force
    // provisioning its own keys might.
    auto cmd = fmt::format("openssl rsa -traditional -in {} -out {} 2>/dev/null",
                           (dir / "a/adbkey").string(), (dir / "pkcs1").string());
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    auto loaded = AdbHostKey::load(dir / "pkcs1", "x@y");
    ASSERT_TRUE(loaded) << loaded.error().describe();
    EXPECT_EQ((*loaded)->public_key_line(), pkcs8->public_key_line());
}

TEST(AdbPublicKey, RejectsMalformedLines) {
    EXPECT_FALSE(AdbPublicKey::parse(""));
    EXPECT_FALSE(AdbPublicKey::parse("QUFB user@host"));
    EXPECT_FALSE(AdbPublicKey::parse(std::string(700, '!')));
}

}  // namespace
}  // namespace exhibit::adb
