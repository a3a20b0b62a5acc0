// The kiosk's identity: an Ed25519 key pair created at first start (PEM, PKCS#8, mode 0600)
// that signs session manifests and the audit head. Thread-safe after construction (all
// methods are const and OpenSSL's Ed25519 signing with a fresh context is reentrant).
#pragma once

#include <array>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/openssl_handles.hpp"

namespace exhibit::keys {

inline constexpr std::size_t kSignatureSize = 64;
using Signature = std::array<std::byte, kSignatureSize>;

// A public key that checks detached signatures (what the DFU holds).
class PublicKey {
  public:
    // PEM "BEGIN PUBLIC KEY" (SubjectPublicKeyInfo) holding an Ed25519 key.
    static Result<PublicKey> from_pem(std::string_view pem);
    static Result<PublicKey> from_raw(std::span<const std::byte> raw32);

    // Ok when `signature` is a valid Ed25519 signature of `message` by this key.
    Status verify(std::span<const std::byte> message, std::span<const std::byte> signature) const;
    Status verify(std::string_view message, std::span<const std::byte> signature) const {
        return verify(std::as_bytes(std::span(message)), signature);
    }

    std::array<std::byte, 32> raw() const;
    std::string pem() const;
    // "SHA256:" + 64 hex digits of the SHA-256 of the raw 32-byte public key.
    std::string fingerprint() const;

  private:
    explicit PublicKey(EvpPkeyPtr key) : key_(std::move(key)) {}
    EvpPkeyPtr key_;
};

class IdentityKey {
  public:
    // Loads the key at `file`, creating it (and its directory, mode 0700) when absent.
    // An existing key readable by group or others is refused, not silently fixed.
    static Result<std::unique_ptr<IdentityKey>> load_or_create(const std::filesystem::path& file);
    static Result<std::unique_ptr<IdentityKey>> load(const std::filesystem::path& file);

    Result<Signature> sign(std::span<const std::byte> message) const;
    Result<Signature> sign(std::string_view message) const {
        return sign(std::as_bytes(std::span(message)));
    }
    const PublicKey& public_key() const { return public_; }
    std::string fingerprint() const { return public_.fingerprint(); }

  private:
    IdentityKey(EvpPkeyPtr key, PublicKey pub) : key_(std::move(key)), public_(std::move(pub)) {}
    EvpPkeyPtr key_;
    PublicKey public_;
};

// OpenSSL's error queue as one string (and the queue cleared); used by every crypto wrapper.
std::string openssl_errors();

}  // namespace exhibit::keys
