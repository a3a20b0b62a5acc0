// exhibit-verify's findings and how they are shown: a clear list for people, or JSON
// (--json; keys in docs/exhibit-verify.md). Pure; reentrant.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace exhibit::verify {

// One check of a manifest (signature, canonical form, format, kiosk key, totals, upload).
struct Check {
    std::string name;
    bool ok = false;
    std::string detail;
};

enum class ItemStatus {
    ok,                 // the bytes are there, of the manifest's size and sha256
    cancelled,          // an administrator cancelled its delivery; not expected here
    missing,            // nothing holds it
    incomplete_upload,  // its upload has fewer bytes than its Upload-Length
    size_mismatch,      // the bytes found have another length
    sha256_mismatch,    // the bytes found have another SHA-256
    metadata_mismatch,  // its upload's metadata names another sha256
    unreadable,         // the file could not be read
    invalid_entry,      // the manifest's entry itself is malformed
};
const char* to_string(ItemStatus status);
bool is_failure(ItemStatus status);

struct ItemResult {
    std::int64_t id = 0;
    std::string source_path;
    std::uint64_t size = 0;
    std::string sha256;
    ItemStatus status = ItemStatus::missing;
    std::string detail;    // what was found, in words
    std::string location;  // where its bytes were found ("upload <id>" or a path)
    std::string note;      // e.g. recorded incomplete, delivered once for several items
};

struct SessionReport {
    std::string manifest;  // where the manifest came from
    std::string manifest_sha256;
    std::string seal_sha256;  // the receipts' seal, once the manifest's statement of it checked
    std::optional<std::int64_t> session_id;
    std::string kiosk_id;
    std::string case_reference;
    std::string exhibit_reference;
    // How the session ended, as its manifest says ("completed", "interrupted", ...), and why.
    std::string session_state;
    std::string session_reason;
    // How the session was extracted, as its manifest states it (session.method: software,
    // driver, configuration); null when the manifest does not say (made before exhibit
    // recorded it).
    nlohmann::json method;
    // The session's audit trail as checked (seq, time, actor, event, details per entry) and
    // read as a continuity record, one line per entry or run; empty when the trail fails.
    nlohmann::json trail = nlohmann::json::array();
    std::vector<std::string> continuity;
    std::string key_fingerprint;  // the key the signature was checked with
    std::vector<Check> checks;
    std::vector<ItemResult> items;
    std::vector<std::string> warnings;
    bool ok() const;
    std::uint64_t bytes_verified() const;
};

struct Report {
    std::string directory;
    std::string layout;  // "tus" or "files"
    std::string layout_description;
    std::vector<SessionReport> sessions;
    std::vector<std::string> problems;  // not tied to one manifest (e.g. none found)
    std::vector<std::string> notes;
    bool ok() const;
};

nlohmann::json to_json(const Report& report);
std::string render_text(const Report& report);

}  // namespace exhibit::verify
