// A session's receipt: what the officer tells the person and writes into the case file — the
// case, the items and bytes taken (in all and per category), and how far delivery to the DFU
// has come. Read from the catalog and the upload queue's tables in one place, so that the
// D-Bus edge, exhibitctl and the kiosk all show the same figures.
//
// Thread-bound to the store's connection.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "daemon/store/store.hpp"

namespace exhibit::store {

struct CategoryTotal {
    std::uint64_t items = 0;
    std::uint64_t bytes = 0;
};

struct SessionReceipt {
    SessionRecord session;
    CaseRecord kase;
    std::uint64_t items = 0;
    std::uint64_t items_incomplete = 0;
    std::uint64_t bytes = 0;
    std::uint64_t items_received_by_dfu = 0;
    std::map<std::string, CategoryTotal> categories;  // by category name, those with items
    // The consented scope in one line: "photos, messages; 2024-01-01 to 2024-03-31;
    // numbers +447700900123".
    std::string scope_summary;
    // The seal (hex SHA-256 of the extraction record, manifest.hpp): empty until the session
    // ends, then fixed.
    std::string seal_sha256;
    std::string manifest_sha256;                      // empty until the manifest exists
    std::string manifest_upload_state;                // "not yet written", or its queue state
    // One sentence: "nothing to upload", "pending", "items received, manifest pending" or
    // "delivered: every item and the signed manifest received".
    std::string upload_state;
};

// A scope as recorded for a case (categories, from_ms, until_ms exclusive, numbers) in one line.
std::string scope_summary(const nlohmann::json& scope);

// Errc::not_found when there is no such session.
Result<SessionReceipt> session_receipt(Store& store, std::int64_t session_id);

}  // namespace exhibit::store
