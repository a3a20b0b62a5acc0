// The signed session manifest: one canonical JSON document per extraction session listing
// every item (sha256, size, category, source path, state, delivery), the device identity,
// the case, scope and officer, the kiosk's identity and key, the audit head and the times,
// with a detached Ed25519 signature by the kiosk's identity key over its exact bytes.
// docs/manifest.md defines the format for exhibit-verify.
//
// Reentrant functions; build_manifest() is thread-bound to the Store it reads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "daemon/keys/identity_key.hpp"

namespace exhibit::store {

class Store;

inline constexpr std::string_view kManifestFormat = "exhibit-manifest-v1";

// Canonical JSON: UTF-8, object keys sorted by byte value, no insignificant whitespace,
// integers only, strings with JSON's minimal escapes (\" \\ \b \f \n \r \t, other control
// characters as \u00xx lowercase), everything else as is. Fails on floats or invalid UTF-8.
Result<std::string> canonical_json(const nlohmann::json& value);

struct SignedManifest {
    std::string body;             // canonical JSON, the exact bytes signed and uploaded
    std::string sha256;           // hex SHA-256 of body
    std::string signature;        // base64 of the 64-byte Ed25519 signature of body
    std::string key_fingerprint;  // "SHA256:<hex>" of the kiosk's public key
};

// Builds and signs the manifest of an ended session. `deliveries` maps item ids (decimal
// strings) to delivery facts ({"state", "url", "received_at", ...}) and is copied into each
// item's "delivery" member. The manifest states the seal of its extraction record
// ("extraction_sha256", common/extraction_record.hpp).
Result<SignedManifest> build_manifest(Store& store, std::int64_t session_id,
                                      const nlohmann::json& deliveries, const Clock& clock);

// The seal of an ended session: hex SHA-256 of the canonical form of its extraction record.
// Known as soon as the session ends, and the same whenever it is asked: the record holds only
// what cannot change once the session has ended.
Result<std::string> extraction_seal(Store& store, std::int64_t session_id);

// Checks a manifest as exhibit-verify will: the signature over the exact bytes, the
// canonical form, the format tag and that its key fingerprint names `key`.
Status verify_manifest(std::string_view body, std::string_view signature_base64,
                       const keys::PublicKey& key);

}  // namespace exhibit::store
