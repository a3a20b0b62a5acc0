#include "phonesim/ios/device_keys.hpp"

#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>

namespace exhibit::phonesim::ios {

namespace {

std::unexpected<Error> fail_ssl(std::string what) {
    unsigned long code = ERR_get_error();
    char text[256] = "no OpenSSL error";
    if (code != 0)
        ERR_error_string_n(code, text, sizeof text);
    ERR_clear_error();
    return fail(Errc::crypto, what + ": " + text);
}

using EncoderCtxPtr = CHandle<OSSL_ENCODER_CTX, OSSL_ENCODER_CTX_free>;

Result<std::string> pkcs1_public_pem(EVP_PKEY* key) {
    EncoderCtxPtr ctx(OSSL_ENCODER_CTX_new_for_pkey(key, OSSL_KEYMGMT_SELECT_PUBLIC_KEY, "PEM",
                                                    "type-specific", nullptr));
    if (!ctx)
        return fail_ssl("no PKCS#1 encoder");
    unsigned char* data = nullptr;
    std::size_t length = 0;
    if (OSSL_ENCODER_to_data(ctx.get(), &data, &length) != 1)
        return fail_ssl("encoding the device public key");
    std::string pem(reinterpret_cast<const char*>(data), length);
    OPENSSL_free(data);
    return pem;
}

Result<X509Ptr> self_signed(EVP_PKEY* key) {
    X509Ptr cert(X509_new());
    if (!cert)
        return fail_ssl("X509_new");
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -24L * 3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600);
    X509_set_pubkey(cert.get(), key);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("Device"), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    if (X509_sign(cert.get(), key, EVP_sha256()) <= 0)
        return fail_ssl("signing the device certificate");
    return cert;
}

}  // namespace

Result<DeviceKeys> DeviceKeys::generate() {
    DeviceKeys keys;
    keys.key_.reset(EVP_RSA_gen(2048));
    if (!keys.key_)
        return fail_ssl("generating the device key");
    auto pem = pkcs1_public_pem(keys.key_.get());
    if (!pem)
        return std::unexpected(pem.error());
    keys.public_pem_ = std::move(*pem);
    auto cert = self_signed(keys.key_.get());
    if (!cert)
        return std::unexpected(cert.error());
    keys.cert_ = std::move(*cert);
    return keys;
}

Result<X509Ptr> parse_pem_certificate(std::string_view pem) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio)
        return fail_ssl("BIO_new_mem_buf");
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert)
        return fail_ssl("not a PEM certificate");
    return cert;
}

Status DeviceKeys::check_pair_certificates(std::string_view device_cert_pem,
                                           std::string_view root_cert_pem) const {
    auto device_cert = parse_pem_certificate(device_cert_pem);
    if (!device_cert)
        return std::unexpected(device_cert.error().with_context("DeviceCertificate"));
    auto root_cert = parse_pem_certificate(root_cert_pem);
    if (!root_cert)
        return std::unexpected(root_cert.error().with_context("RootCertificate"));
    EVP_PKEY* device_public = X509_get0_pubkey(device_cert->get());
    if (!device_public || EVP_PKEY_eq(device_public, key_.get()) != 1)
        return fail(Errc::denied, "DeviceCertificate does not carry the device's key");
    EVP_PKEY* root_public = X509_get0_pubkey(root_cert->get());
    if (!root_public || X509_verify(device_cert->get(), root_public) != 1) {
        ERR_clear_error();
        return fail(Errc::denied, "DeviceCertificate is not signed by RootCertificate");
    }
    return {};
}

}  // namespace exhibit::phonesim::ios
