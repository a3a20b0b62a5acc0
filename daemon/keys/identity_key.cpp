#include "identity_key.hpp"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/std.h>

#include "common/fs.hpp"
#include "common/sha256.hpp"

namespace exhibit::keys {

namespace {
std::unexpected<Error> crypto_fail(std::string context) {
    return fail(Errc::crypto, fmt::format("{}: {}", context, openssl_errors()));
}

std::string bio_to_string(BIO* bio) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(n));
}

Result<PublicKey> public_of(const EvpPkeyPtr& key) {
    auto raw = std::array<std::byte, 32>{};
    std::size_t len = raw.size();
    if (EVP_PKEY_get_raw_public_key(key.get(), reinterpret_cast<unsigned char*>(raw.data()),
                                    &len) != 1 ||
        len != raw.size())
        return crypto_fail("cannot read the public half of the identity key");
    return PublicKey::from_raw(raw);
}
}  // namespace

std::string openssl_errors() {
    std::string out;
    while (unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        if (!out.empty())
            out += "; ";
        out += buf;
    }
    return out.empty() ? "unknown OpenSSL error" : out;
}

Result<PublicKey> PublicKey::from_pem(std::string_view pem) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio)
        return crypto_fail("out of memory");
    EvpPkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    if (!key)
        return crypto_fail("not a PEM public key");
    if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519)
        return fail(Errc::crypto, "public key is not an Ed25519 key");
    return PublicKey(std::move(key));
}

Result<PublicKey> PublicKey::from_raw(std::span<const std::byte> raw32) {
    if (raw32.size() != 32)
        return fail(Errc::invalid_argument, "an Ed25519 public key has 32 bytes");
    EvpPkeyPtr key(EVP_PKEY_new_raw_public_key(
        EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(raw32.data()), 32));
    if (!key)
        return crypto_fail("invalid Ed25519 public key");
    return PublicKey(std::move(key));
}

Status PublicKey::verify(std::span<const std::byte> message,
                         std::span<const std::byte> signature) const {
    if (signature.size() != kSignatureSize)
        return fail(Errc::crypto, fmt::format("signature has {} bytes, expected {}",
                                              signature.size(), kSignatureSize));
    EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1)
        return crypto_fail("cannot start signature check");
    int rc = EVP_DigestVerify(
        ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
        reinterpret_cast<const unsigned char*>(message.data()), message.size());
    if (rc != 1) {
        ERR_clear_error();
        return fail(Errc::crypto,
                    fmt::format("signature does not verify with key {}", fingerprint()));
    }
    return {};
}

std::array<std::byte, 32> PublicKey::raw() const {
    std::array<std::byte, 32> raw{};
    std::size_t len = raw.size();
    EVP_PKEY_get_raw_public_key(key_.get(), reinterpret_cast<unsigned char*>(raw.data()), &len);
    return raw;
}

std::string PublicKey::pem() const {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1)
        return {};
    return bio_to_string(bio.get());
}

std::string PublicKey::fingerprint() const {
    auto r = raw();
    return "SHA256:" + to_hex(Sha256::of(std::span<const std::byte>(r)));
}

Result<std::unique_ptr<IdentityKey>> IdentityKey::load(const std::filesystem::path& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0)
        return fail_errno(fmt::format("identity key {}", file));
    if ((st.st_mode & 077) != 0)
        return fail(Errc::crypto, fmt::format("identity key {} has mode {:04o}; it must be 0600 "
                                              "(readable by its owner only)",
                                              file, st.st_mode & 07777));
    auto pem = fs::read_file(file, 64 * 1024);
    if (!pem)
        return std::unexpected(pem.error());
    BioPtr bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
    EvpPkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!key)
        return crypto_fail(fmt::format("identity key {} is not a PEM private key", file));
    if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519)
        return fail(Errc::crypto, fmt::format("identity key {} is not an Ed25519 key", file));
    auto pub = public_of(key);
    if (!pub)
        return std::unexpected(pub.error());
    return std::unique_ptr<IdentityKey>(new IdentityKey(std::move(key), std::move(*pub)));
}

Result<std::unique_ptr<IdentityKey>> IdentityKey::load_or_create(
    const std::filesystem::path& file) {
    if (::access(file.c_str(), F_OK) == 0)
        return load(file);
    if (auto s = fs::ensure_directory(file.parent_path(), 0700); !s)
        return std::unexpected(s.error());

    EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    if (!key)
        return crypto_fail("cannot generate the identity key");
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio ||
        PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
        return crypto_fail("cannot encode the identity key");
    std::string pem = bio_to_string(bio.get());

    // Write beside, then link(): if another process created the key meanwhile, keep theirs.
    auto tmp = file;
    tmp += fmt::format(".new.{}", ::getpid());
    if (auto s = fs::write_file_atomic(tmp, pem, 0600); !s)
        return std::unexpected(s.error());
    int rc = ::link(tmp.c_str(), file.c_str());
    int err = errno;
    ::unlink(tmp.c_str());
    if (rc != 0 && err != EEXIST)
        return fail_errno(fmt::format("cannot create identity key {}", file), err);
    if (auto s = fs::fsync_directory(file.parent_path()); !s)
        return std::unexpected(s.error());
    return load(file);
}

Result<Signature> IdentityKey::sign(std::span<const std::byte> message) const {
    EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1)
        return crypto_fail("cannot start signing");
    Signature sig{};
    std::size_t len = sig.size();
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) != 1 ||
        len != sig.size())
        return crypto_fail("signing failed");
    return sig;
}

}  // namespace exhibit::keys
