// The extraction record: what a session took, as it stood when the session ended. It is the
// session manifest (docs/manifest.md) without what is only known later or may change: the
// items' deliveries and integrity checks, the audit head and trail, when the manifest was written, the
// kiosk's configurable name, the session's upload priority, and the manifest's own statement
// of the record's hash.
//
// Its SHA-256 over the canonical form is the seal: exhibitd gives it in the receipt as soon
// as the session ends (the kiosk prints it, as text and QR code, on the owner's and the case
// file's receipts), the manifest states it ("extraction_sha256", signed), and exhibit-verify
// recomputes it from the delivered manifest, so the DFU can tie a delivery to the receipt.
// Both sides derive the record from a manifest document with this one function.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace exhibit {

inline constexpr std::string_view kExtractionRecordFormat = "exhibit-extraction-v1";

// The record of `manifest` (a manifest document, with or without "extraction_sha256").
nlohmann::json extraction_record(const nlohmann::json& manifest);

}  // namespace exhibit
