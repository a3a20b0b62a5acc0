// Fixed journald MESSAGE_IDs of the upload channel's events (made with `systemd-id128 new`;
// never change or reuse one: journal queries and alerts at the DFU match on them). Each is
// explained in packaging/journald/exhibit.catalog; tests/journal checks the two agree.
#pragma once

#include <string_view>

namespace exhibit::upload::message_id {

// The DFU store created an upload for an item or a manifest. Fields: EXHIBIT_UPLOAD_KIND,
// EXHIBIT_ITEM or EXHIBIT_SESSION, EXHIBIT_UPLOAD_URL.
inline constexpr std::string_view kUploadCreated = "dab5971c6eb24bc19b2b2331544239e5";
// An upload resumes at the server's offset, which differs from the one last recorded.
// Fields: EXHIBIT_UPLOAD_KIND, EXHIBIT_ITEM or EXHIBIT_SESSION, EXHIBIT_OFFSET.
inline constexpr std::string_view kUploadResumed = "157d3cfb802946888471470343c49353";
// The server lost or refused an upload; it is created again from the start.
// Fields: EXHIBIT_UPLOAD_KIND, EXHIBIT_ITEM or EXHIBIT_SESSION, EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kUploadRecreated = "4f180faf4ebf41ff8b444065083de890";
// The DFU store found a chunk's checksum wrong; the chunk is sent again.
// Fields: EXHIBIT_UPLOAD_KIND, EXHIBIT_ITEM or EXHIBIT_SESSION, EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kChecksumMismatch = "d19487daca104638ab3733fdb9721098";
// The DFU store's receipt names other bytes than those sent; the item is sent again to a new
// upload (the store's copy stays there for the DFU to look at).
// Fields: EXHIBIT_UPLOAD_KIND, EXHIBIT_ITEM or EXHIBIT_SESSION, EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kReceiptMismatch = "60aad424de9040a9a27c736b8c15f8b3";
// A request body was refused as too large: smaller chunks for a while.
// Fields: EXHIBIT_UPLOAD_KIND, EXHIBIT_ITEM or EXHIBIT_SESSION, EXHIBIT_BODY_LIMIT.
inline constexpr std::string_view kBodyLimitLearned = "c932710caa4842eab67c0e7e9d6c67fb";
// An upload attempt failed (to be retried, refused by the server, or failed for good).
// Fields: EXHIBIT_UPLOAD_KIND, EXHIBIT_ITEM or EXHIBIT_SESSION, EXHIBIT_UPLOAD_OUTCOME,
// EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kUploadAttemptFailed = "526b5089d44046fc850714f9bb0882ee";
// The DFU store confirmed it has the whole item or manifest (a receipt is kept).
// Fields: EXHIBIT_UPLOAD_KIND, EXHIBIT_ITEM or EXHIBIT_SESSION, EXHIBIT_SIZE, EXHIBIT_CHECKSUM,
// EXHIBIT_RECEIPT_RULE ("dfu-receipt": the store's receipt by hash; "offset": offset = length).
inline constexpr std::string_view kUploadReceived = "86fbb3b20ed7459fb7b151f2f1705ef5";
// An upload's progress or outcome could not be written to the catalog.
// Fields: EXHIBIT_UPLOAD_KIND, EXHIBIT_ITEM or EXHIBIT_SESSION, EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kUploadNotRecorded = "a67c98ab6ad94e0f9a50bf4666587d03";
// Every item of a session is received; its signed manifest is queued. Fields:
// EXHIBIT_SESSION.
inline constexpr std::string_view kManifestQueued = "5a76142c69b64c1ca5305e0947dddb2f";
// A requested sync finished: nothing of the normal lane is left to send.
inline constexpr std::string_view kSyncComplete = "584325478b46425096e55f2ff82dee07";
// The upload scheduler failed a round; it tries again at the next poll. Fields:
// EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kSchedulerFailed = "716a8cf03c8d44aca3d347718044f151";
// The HTTP machinery (libcurl driven by the loop) failed outside a request.
// Fields: EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kTransportFailed = "4b3d9eb1a9f945208edaf0e1066db2e0";
// A cancelled item's partial upload could not be deleted at the DFU store.
// Fields: EXHIBIT_ITEM, EXHIBIT_UPLOAD_URL, EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kRemoteDeleteFailed = "9b2bda7b7f2843558ea3e23fcb9988d4";
// A received item's local copy was released after the retention period. Fields:
// EXHIBIT_SHA256, EXHIBIT_SIZE.
inline constexpr std::string_view kBlobReleased = "141b1b08e81f498e91d9a0404b7c6577";
// A released blob could not be deleted (space, not evidence, is lost). Fields:
// EXHIBIT_SHA256, EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kBlobReleaseFailed = "41d3652d5812418db302fff55656aef0";

}  // namespace exhibit::upload::message_id
