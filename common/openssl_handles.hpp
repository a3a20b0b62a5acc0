// The one owner of each OpenSSL handle exhibit holds (keys, digest and key contexts, memory
// BIOs, big numbers, parameter builders, certificates). Nothing else in exhibit calls an
// OpenSSL *_free.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/x509.h>

#include "common/c_handle.hpp"

namespace exhibit {

using EvpPkeyPtr = CHandle<EVP_PKEY, EVP_PKEY_free>;
using EvpPkeyCtxPtr = CHandle<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using EvpMdCtxPtr = CHandle<EVP_MD_CTX, EVP_MD_CTX_free>;
using BioPtr = CHandle<BIO, BIO_free>;
using BnPtr = CHandle<BIGNUM, BN_free>;
using BnCtxPtr = CHandle<BN_CTX, BN_CTX_free>;
using OsslParamBldPtr = CHandle<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using OsslParamPtr = CHandle<OSSL_PARAM, OSSL_PARAM_free>;
using X509Ptr = CHandle<X509, X509_free>;

}  // namespace exhibit
