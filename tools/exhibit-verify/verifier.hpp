// exhibit-verify's checks of a delivered session (docs/exhibit-verify.md): per manifest, the
// signature over its exact bytes with the kiosk key the DFU trusts, its canonical form and
// format, that it names that key, its totals, its own upload; then every item it lists.
// Reentrant.
#pragma once

#include <optional>
#include <string>

#include "daemon/keys/identity_key.hpp"
#include "tools/exhibit-verify/delivery.hpp"
#include "tools/exhibit-verify/report.hpp"

namespace exhibit::verify {

// The kiosk key the DFU enrolled: the key itself (--key), or only its fingerprint
// (--fingerprint), in which case the manifest's embedded key is used if its fingerprint is
// this one.
struct TrustedKey {
    std::optional<keys::PublicKey> key;
    std::string fingerprint;  // "SHA256:" + 64 lowercase hex digits
};

// "SHA256:<hex>" (or the bare hex), normalised to lowercase; nullopt when malformed.
std::optional<std::string> normalise_fingerprint(std::string_view text);

Report verify_delivery(const Delivery& delivery, const TrustedKey& trusted);

}  // namespace exhibit::verify
