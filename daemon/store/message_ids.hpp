// Fixed journald MESSAGE_IDs of the evidence store's events (made with `systemd-id128 new`;
// never change or reuse one: journal queries and alerts at the DFU match on them). Each is
// explained in packaging/journald/exhibit.catalog; tests/journal checks the two agree.
#pragma once

#include <string_view>

namespace exhibit::store::message_id {

// Start-up removed a partial spool file left by an interrupted write (audited).
// Fields: EXHIBIT_SPOOL_FILE, EXHIBIT_SIZE.
inline constexpr std::string_view kSpoolDiscarded = "f43fde1e46144299bc8d4bfa478609f0";
// A stored blob is missing or no longer matches its catalogued size or SHA-256.
// Fields: EXHIBIT_ITEM, EXHIBIT_SESSION, EXHIBIT_SHA256, EXHIBIT_INTEGRITY, EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kEvidenceDamaged = "b7c13a7903824a67af400aab41f8e6cf";
// An audit entry could not be written (any module). Fields: EXHIBIT_AUDIT_EVENT,
// EXHIBIT_ERROR_CLASS, and EXHIBIT_ITEM where the entry is about one item.
inline constexpr std::string_view kAuditFailed = "3515991ec7b84ec588e3802d22e3e0fe";

}  // namespace exhibit::store::message_id
