// RSA-2048 keys in the formats adb uses, so keys can be provisioned with standard tools:
//   adbkey      PEM private key (PKCS#8, "BEGIN PRIVATE KEY"; PKCS#1 is accepted on read)
//   adbkey.pub  base64 of Android's 524-byte RSAPublicKey struct, a space, "user@host"
// and the AUTH token signature (PKCS#1 v1.5 over the 20-byte token used as a SHA-1 digest).
// See ../shared/reference/adb-protocol.md §3. Thread-safe after construction.
#pragma once

#include <array>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/base64.hpp"
#include "common/error.hpp"
#include "common/openssl_handles.hpp"

namespace exhibit::adb {

inline constexpr std::size_t kAndroidPubkeySize = 524;
inline constexpr std::size_t kRsaSignatureSize = 256;

// An RSA public key as a phone keeps it (one line of adb_keys).
class AdbPublicKey {
  public:
    // Parses "<base64 of 524 bytes>[ comment]" (leading/trailing whitespace ignored).
    static Result<AdbPublicKey> parse(std::string_view line);

    // Ok when `signature` signs `token` with the private half of this key.
    Status verify_token(std::span<const std::byte> token,
                        std::span<const std::byte> signature) const;
    // The 524-byte Android encoding, base64 (700 characters).
    const std::string& base64() const { return base64_; }

  private:
    AdbPublicKey(EvpPkeyPtr key, std::string b64) : key_(std::move(key)), base64_(std::move(b64)) {}
    EvpPkeyPtr key_;
    std::string base64_;
};

// What the AUTH handshake needs of the kiosk's key: a phone's token signed, and the public
// key to offer a phone that does not know it yet. AdbHostKey holds the key itself; in a
// driver host the child asks exhibitd for both (drivers/adb/hosted_adb.hpp), so that the
// private key never enters the process that talks to the phone.
class AdbAuthKey {
  public:
    virtual ~AdbAuthKey() = default;
    virtual Result<std::array<std::byte, kRsaSignatureSize>> sign_token(
        std::span<const std::byte> token) const = 0;
    // "<base64> <comment>" as sent in AUTH(RSAPUBLICKEY) (without the trailing NUL).
    virtual Result<std::string> offered_key() const = 0;
};

// The kiosk's ADB host key.
class AdbHostKey final : public AdbAuthKey {
  public:
    // Loads <dir>/adbkey (creating an RSA-2048 key with mode 0600 when absent) and writes
    // <dir>/adbkey.pub beside it when missing. `comment` ends the .pub line ("exhibit@kiosk").
    static Result<std::unique_ptr<AdbHostKey>> load_or_create(const std::filesystem::path& dir,
                                                              std::string_view comment);
    static Result<std::unique_ptr<AdbHostKey>> load(const std::filesystem::path& adbkey,
                                                    std::string_view comment);

    Result<std::array<std::byte, kRsaSignatureSize>> sign_token(
        std::span<const std::byte> token) const override;
    // "<base64> <comment>" as sent in AUTH(RSAPUBLICKEY) (without the trailing NUL).
    std::string public_key_line() const;
    Result<std::string> offered_key() const override { return public_key_line(); }
    std::string fingerprint() const;  // SHA256 hex of the 524-byte encoding

  private:
    AdbHostKey(EvpPkeyPtr key, std::string pub_b64, std::string comment)
        : key_(std::move(key)), pub_b64_(std::move(pub_b64)), comment_(std::move(comment)) {}
    EvpPkeyPtr key_;
    std::string pub_b64_;
    std::string comment_;
};

// Android's RSAPublicKey encoding of an RSA-2048 EVP_PKEY (n0inv and rr computed, so that
// mincrypt-era devices accept it).
Result<std::array<std::byte, kAndroidPubkeySize>> encode_android_pubkey(const void* evp_pkey);

}  // namespace exhibit::adb
