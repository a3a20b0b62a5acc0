// Fixed journald MESSAGE_IDs of the evidence store's events (made with `systemd-id128 new`;
// never change or reuse one: journal queries and alerts at the DFU match on them). Each is
// explained in packaging/journald/exhibit.catalog; tests/journal checks the two agree.
#pragma once

#include <string_view>

namespace exhibit::store::message_id {

// Start-up kept a partial spool file left by an interrupted write in quarantine/ (audited).
// Fields: EXHIBIT_SPOOL_FILE, EXHIBIT_SIZE, EXHIBIT_SESSION when the name says whose it was.
inline constexpr std::string_view kSpoolKept = "11a6859e434b46e5afc2f5a40791d63a";
// Start-up recorded a partial spool file as the incomplete item its tag names (audited as
// store.item_added). Fields: EXHIBIT_SESSION, EXHIBIT_ITEM, EXHIBIT_SIZE.
inline constexpr std::string_view kPartialItemRecorded = "1d048eef4358422b9c14ba9de463f3f2";
// Start-up found a session that exhibitd had left created or running (it was stopped without
// ending it) and ended it "interrupted" (audited). Fields: EXHIBIT_SESSION, EXHIBIT_SESSION_STATE.
inline constexpr std::string_view kSessionInterruptedAtStart = "d6ebf2d6c9a446f6ab8ff6311f6bf093";
// A stored blob is missing or no longer matches its catalogued size or SHA-256.
// Fields: EXHIBIT_ITEM, EXHIBIT_SESSION, EXHIBIT_SHA256, EXHIBIT_INTEGRITY, EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kEvidenceDamaged = "b7c13a7903824a67af400aab41f8e6cf";
// An audit entry could not be written (any module). Fields: EXHIBIT_AUDIT_EVENT,
// EXHIBIT_ERROR_CLASS, and EXHIBIT_ITEM where the entry is about one item.
inline constexpr std::string_view kAuditFailed = "3515991ec7b84ec588e3802d22e3e0fe";

}  // namespace exhibit::store::message_id
