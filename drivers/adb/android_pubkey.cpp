#include "android_pubkey.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/std.h>

#include "common/fs.hpp"
#include "common/sha256.hpp"

namespace exhibit::adb {

namespace {
constexpr int kModulusWords = 64;  // 2048 bits

std::string ssl_errors() {
    std::string out;
    while (unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        out += out.empty() ? "" : "; ";
        out += buf;
    }
    return out.empty() ? "unknown OpenSSL error" : out;
}

std::unexpected<Error> crypto_fail(std::string what) {
    return fail(Errc::crypto, fmt::format("{}: {}", what, ssl_errors()));
}

// Writes `bn` little-endian into exactly `len` bytes.
bool put_le(std::byte* out, const BIGNUM* bn, int len) {
    return BN_bn2lebinpad(bn, reinterpret_cast<unsigned char*>(out), len) == len;
}
}  // namespace

Result<std::array<std::byte, kAndroidPubkeySize>> encode_android_pubkey(const void* evp_pkey) {
    auto* key = static_cast<EVP_PKEY*>(const_cast<void*>(evp_pkey));
    BIGNUM* n_raw = nullptr;
    BIGNUM* e_raw = nullptr;
    const bool rsa = EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n_raw) == 1 &&
                     EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e_raw) == 1;
    BnPtr n(n_raw), e(e_raw);
    if (!rsa)
        return crypto_fail("not an RSA key");
    if (BN_num_bits(n.get()) != 2048)
        return fail(Errc::crypto, "ADB keys must be RSA-2048");
    BnCtxPtr ctx(BN_CTX_new());
    BnPtr r32(BN_new()), n0inv(BN_new()), rr(BN_new());
    if (!ctx || !r32 || !n0inv || !rr)
        return crypto_fail("out of memory");

    // n0inv = -1 / n[0] mod 2^32
    if (!BN_set_bit(r32.get(), 32) || !BN_mod_inverse(n0inv.get(), n.get(), r32.get(), ctx.get()) ||
        !BN_sub(n0inv.get(), r32.get(), n0inv.get()))
        return crypto_fail("cannot compute n0inv");
    // rr = (2^2048)^2 mod n
    if (!BN_set_bit(rr.get(), 2048 * 2) || !BN_mod(rr.get(), rr.get(), n.get(), ctx.get()))
        return crypto_fail("cannot compute rr");

    std::array<std::byte, kAndroidPubkeySize> out{};
    auto put32 = [&](std::size_t off, std::uint32_t v) {
        for (int i = 0; i < 4; ++i)
            out[off + static_cast<std::size_t>(i)] = static_cast<std::byte>(v >> (8 * i));
    };
    put32(0, kModulusWords);
    put32(4, static_cast<std::uint32_t>(BN_get_word(n0inv.get())));
    if (!put_le(out.data() + 8, n.get(), 256) || !put_le(out.data() + 264, rr.get(), 256))
        return crypto_fail("cannot encode the modulus");
    put32(520, static_cast<std::uint32_t>(BN_get_word(e.get())));
    return out;
}

Result<AdbPublicKey> AdbPublicKey::parse(std::string_view line) {
    auto is_space = [](char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\0';
    };
    while (!line.empty() && is_space(line.front()))
        line.remove_prefix(1);
    auto end = line.find_first_of(std::string_view(" \t\r\n\0", 5));
    std::string_view b64 = line.substr(0, end);
    auto raw = base64_decode(b64);
    if (!raw || raw->size() != kAndroidPubkeySize)
        return fail(Errc::invalid_argument, "an ADB public key is the base64 of 524 bytes");
    std::span<const std::byte> bytes(*raw);
    auto word = [&](std::size_t off) {
        std::uint32_t v = 0;
        for (int i = 3; i >= 0; --i)
            v = v << 8 | std::to_integer<std::uint32_t>(bytes[off + static_cast<std::size_t>(i)]);
        return v;
    };
    if (word(0) != kModulusWords)
        return fail(Errc::invalid_argument, "ADB public key is not RSA-2048");
    BnPtr n(BN_lebin2bn(reinterpret_cast<const unsigned char*>(bytes.data() + 8), 256, nullptr));
    BnPtr e(BN_new());
    if (!n || !e || !BN_set_word(e.get(), word(520)))
        return crypto_fail("cannot decode ADB public key");

    OsslParamBldPtr bld(OSSL_PARAM_BLD_new());
    if (!bld || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) ||
        !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()))
        return crypto_fail("cannot build RSA parameters");
    OsslParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
    EVP_PKEY* raw_key = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &raw_key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
        return crypto_fail("cannot load ADB public key");
    return AdbPublicKey(EvpPkeyPtr(raw_key), std::string(b64));
}

Status AdbPublicKey::verify_token(std::span<const std::byte> token,
                                  std::span<const std::byte> signature) const {
    if (token.size() != 20)
        return fail(Errc::protocol, "an AUTH token has 20 bytes");
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new(key_.get(), nullptr));
    if (!ctx || EVP_PKEY_verify_init(ctx.get()) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1 ||
        EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha1()) != 1)
        return crypto_fail("cannot start RSA verification");
    int rc = EVP_PKEY_verify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(), reinterpret_cast<const unsigned char*>(token.data()),
                             token.size());
    if (rc != 1) {
        ERR_clear_error();
        return fail(Errc::crypto, "AUTH signature does not verify with this key");
    }
    return {};
}

Result<std::unique_ptr<AdbHostKey>> AdbHostKey::load(const std::filesystem::path& adbkey,
                                                     std::string_view comment) {
    auto pem = fs::read_file(adbkey, 64 * 1024);
    if (!pem)
        return std::unexpected(pem.error());
    BioPtr bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
    EvpPkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!key)
        return crypto_fail(fmt::format("{} is not a PEM private key", adbkey));
    if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA)
        return fail(Errc::crypto, fmt::format("{} is not an RSA key", adbkey));
    auto encoded = encode_android_pubkey(key.get());
    if (!encoded)
        return std::unexpected(encoded.error());
    return std::unique_ptr<AdbHostKey>(
        new AdbHostKey(std::move(key), base64_encode(*encoded), std::string(comment)));
}

Result<std::unique_ptr<AdbHostKey>> AdbHostKey::load_or_create(const std::filesystem::path& dir,
                                                               std::string_view comment) {
    const auto priv = dir / "adbkey";
    const auto pub = dir / "adbkey.pub";
    if (::access(priv.c_str(), F_OK) != 0) {
        if (auto s = fs::ensure_directory(dir, 0700); !s)
            return std::unexpected(s.error());
        EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)));
        if (!key)
            return crypto_fail("cannot generate the ADB host key");
        BioPtr bio(BIO_new(BIO_s_mem()));
        if (!bio || PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr,
                                             nullptr) != 1)
            return crypto_fail("cannot encode the ADB host key");
        char* data = nullptr;
        long n = BIO_get_mem_data(bio.get(), &data);
        auto tmp = dir / fmt::format("adbkey.new.{}", ::getpid());
        if (auto s = fs::write_file_atomic(tmp, std::string_view(data, static_cast<std::size_t>(n)),
                                           0600);
            !s)
            return std::unexpected(s.error());
        int rc = ::link(tmp.c_str(), priv.c_str());  // keep a key another process made meanwhile
        int err = errno;
        ::unlink(tmp.c_str());
        if (rc != 0 && err != EEXIST)
            return fail_errno(fmt::format("cannot create {}", priv), err);
    }
    auto key = load(priv, comment);
    if (!key)
        return key;
    if (::access(pub.c_str(), F_OK) != 0)
        if (auto s = fs::write_file_atomic(pub, (*key)->public_key_line() + "\n", 0644); !s)
            return std::unexpected(s.error());
    return key;
}

Result<std::array<std::byte, kRsaSignatureSize>> AdbHostKey::sign_token(
    std::span<const std::byte> token) const {
    if (token.size() != 20)
        return fail(Errc::protocol,
                    fmt::format("AUTH token has {} bytes, expected 20", token.size()));
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new(key_.get(), nullptr));
    if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1 ||
        EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha1()) != 1)
        return crypto_fail("cannot start RSA signing");
    std::array<std::byte, kRsaSignatureSize> sig{};
    std::size_t len = sig.size();
    // The token is used as if it were a SHA-1 digest: it is not hashed again.
    if (EVP_PKEY_sign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                      reinterpret_cast<const unsigned char*>(token.data()), token.size()) != 1 ||
        len != sig.size())
        return crypto_fail("RSA signing failed");
    return sig;
}

std::string AdbHostKey::public_key_line() const {
    return fmt::format("{} {}", pub_b64_, comment_);
}

std::string AdbHostKey::fingerprint() const {
    auto raw = base64_decode(pub_b64_);
    return raw ? to_hex(Sha256::of(std::span<const std::byte>(*raw))) : std::string();
}

}  // namespace exhibit::adb
