// The simulated iPhone's own identity key (RSA-2048, as real devices have), its public key in
// the PKCS#1 PEM form lockdownd hands out as DevicePublicKey, a self-signed certificate for
// session TLS, and the check of a host's pair record: its DeviceCertificate must carry this
// key and be signed by its RootCertificate. Immutable once made; thread-safe.
#pragma once

#include <string>

#include "common/error.hpp"
#include "common/openssl_handles.hpp"

namespace exhibit::phonesim::ios {

class DeviceKeys {
  public:
    static Result<DeviceKeys> generate();

    EVP_PKEY* key() const { return key_.get(); }
    X509* certificate() const { return cert_.get(); }
    // "-----BEGIN RSA PUBLIC KEY-----" ... (what PEM_read_bio_RSAPublicKey reads).
    const std::string& public_key_pem() const { return public_pem_; }

    // Whether `device_cert_pem` holds this device's public key and is signed by the key of
    // `root_cert_pem`; the error says what did not hold.
    Status check_pair_certificates(std::string_view device_cert_pem,
                                   std::string_view root_cert_pem) const;

  private:
    EvpPkeyPtr key_;
    X509Ptr cert_;
    std::string public_pem_;
};

Result<X509Ptr> parse_pem_certificate(std::string_view pem);

}  // namespace exhibit::phonesim::ios
