// The persistent upload queue in the store's catalog: the `uploads` rows of items and the
// `manifests` rows of sessions (schema v2), with every state change that matters to the
// chain of custody committed together with its audit entry.
//
//   queued -> uploading -> received (receipt) | failed (reason) | cancelled (admin)
//      ^________|  (errors, window closing, restarts: back to queued, never lost)
//
// Thread-bound to the Store it was given (the loop thread's own Store).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "daemon/store/store.hpp"
#include "daemon/upload/tus_protocol.hpp"

namespace exhibit::upload {

enum class Lane { normal, urgent };
enum class UploadState { queued, uploading, received, failed, cancelled };
enum class JobKind { item, manifest };

std::string_view to_string(Lane lane);
std::string_view to_string(UploadState state);
std::string_view to_string(JobKind kind);
std::optional<Lane> lane_from(std::string_view text);
std::optional<UploadState> upload_state_from(std::string_view text);

// An item (id = item id) or a session's manifest (id = session id).
struct JobKey {
    JobKind kind = JobKind::item;
    std::int64_t id = 0;
    friend auto operator<=>(const JobKey&, const JobKey&) = default;
};
std::string describe(const JobKey& key);  // "item 12", "manifest of session 3"
// The journal's fields of a job: EXHIBIT_UPLOAD_KIND ("item", "manifest"), and EXHIBIT_ITEM
// or (a manifest) EXHIBIT_SESSION.
log::Field kind_field(const JobKey& key);
log::Field id_field(const JobKey& key);

// Everything needed to (re)start one upload.
struct Job {
    JobKey key;
    std::int64_t session_id = 0;
    Lane lane = Lane::normal;
    std::optional<std::string> remote_url;
    std::uint64_t remote_offset = 0;  // last offset the server confirmed
    int attempts = 0;                 // consecutive failures without progress
    std::int64_t queued_at_ms = 0;
    std::uint64_t length = 0;
    std::string sha256;
    std::filesystem::path blob;  // items: the blob file
    std::string body;            // manifests: the signed document
    bool blob_intact = true;     // items: the store has not flagged the blob
    MetadataPairs metadata;      // for Upload-Metadata
};

// Proof of delivery, kept as JSON in the row's `receipt`.
struct Receipt {
    std::string url;
    std::uint64_t offset = 0;  // equals length
    std::uint64_t length = 0;
    std::string checksum;  // "sha256-per-chunk" (server verified every chunk) or "not-offered"
    TimePoint received_at;
    // Which rule made it received: "dfu-receipt" (the store's receipt names this item's sha256
    // and length: `dfu` holds it) or "offset" (a plain tus server confirmed offset = length).
    std::string rule = "offset";
    std::optional<DfuReceipt> dfu;
    std::string note;  // why the offset rule applied where the store offered other receipts
    std::optional<std::int64_t> same_content_as;  // deduplicated: the item actually uploaded
    nlohmann::json to_json() const;
};

struct QueueCounts {
    std::uint64_t queued = 0, uploading = 0, received = 0, failed = 0, cancelled = 0;
};

// A job that failed for good, and why (the server's answer or the local problem).
struct FailedJob {
    JobKey key;
    std::string reason;
};

// What the status / D-Bus layer shows.
struct QueueSnapshot {
    QueueCounts items;
    QueueCounts manifests;
    std::uint64_t bytes_pending = 0;  // not yet confirmed by the server, queued or uploading
    std::optional<std::int64_t> oldest_unsent_item;
    std::optional<TimePoint> oldest_unsent_since;
    std::optional<TimePoint> last_success;
    std::optional<std::string> last_error;  // newest error among items still to send
    bool sync_requested = false;
};

class UploadQueue {
  public:
    UploadQueue(store::Store& store, const Clock& clock) : store_(&store), clock_(&clock) {}

    // Queues every stored item that has no upload row yet (lane: urgent when its session is
    // urgent). Returns how many were queued; each is audited as upload.queued.
    Result<int> enqueue_new_items();
    // At start: rows left `uploading` by a stopped daemon go back to `queued`.
    Status requeue_interrupted();

    // Queued jobs whose retry time has come, urgent lane first, then oldest first; the
    // normal lane only when `normal_allowed`.
    Result<std::vector<Job>> runnable(bool normal_allowed, std::size_t limit);
    // The earliest retry time of a queued job that waits for one (lanes as above).
    Result<std::optional<TimePoint>> next_retry(bool normal_allowed);
    // Jobs of the normal lane still to send (queued or uploading).
    Result<std::uint64_t> normal_pending();

    // Another item of the same session with the same content: its receipt, if received by the
    // store at `endpoint` (its origin); `busy` is set when such an item is on its way (wait for
    // it rather than send twice).
    Result<std::optional<std::pair<std::int64_t, Receipt>>> same_content_receipt(
        const Job& job, std::string_view endpoint, bool* busy);

    Status mark_uploading(const JobKey& key);
    // The server created the upload at `url` (audited: upload.created, or upload.recreated
    // with `reason` when it had lost the earlier one).
    Status set_remote(const JobKey& key, const std::string& url,
                      std::optional<std::string> recreated_reason);
    // The server confirmed `offset` (progress resets the failure count).
    Status set_offset(const JobKey& key, std::uint64_t offset);
    // Back to queued until `retry_at`, remembering the error (unless empty); counts a failed
    // attempt when
    // `count_attempt`. Returns the new attempt count.
    Result<int> defer(const JobKey& key, const std::string& error, TimePoint retry_at,
                      bool count_attempt);
    Status mark_received(const JobKey& key, const Receipt& receipt);
    Status mark_failed(const JobKey& key, const std::string& reason);

    // Administrator actions (audited with `actor`).
    Status cancel(std::int64_t item_id, std::string_view actor);
    Status retry(const JobKey& key, std::string_view actor);
    // Every failed item and manifest back to queued (each audited as retry() does); how many.
    Result<std::uint64_t> retry_failed(std::string_view actor);
    // Failed items (by id), then failed manifests (by session), at most `limit`.
    Result<std::vector<FailedJob>> failed_jobs(std::size_t limit);
    Status set_lane(std::int64_t item_id, Lane lane, std::string_view actor);
    // The officer's "send now" on a receipt: the session becomes urgent, and so do its items
    // and its manifest that are not yet received (also those queued later). Errc::not_found
    // for an unknown session.
    Status send_session_now(std::int64_t session_id, std::string_view actor);
    Result<std::optional<std::string>> remote_url(const JobKey& key);

    // Ended sessions whose items are all received (or cancelled) and that have no manifest.
    Result<std::vector<std::int64_t>> sessions_awaiting_manifest();
    // Per-item delivery facts for a session's manifest.
    Result<nlohmann::json> deliveries(std::int64_t session_id);
    Status add_manifest(std::int64_t session_id, const std::string& body, const std::string& sha256,
                        const std::string& signature, const std::string& fingerprint);

    Status request_sync(std::string_view actor);
    Result<bool> sync_requested();
    Status clear_sync_request();

    Result<QueueSnapshot> snapshot();

  private:
    // Appends the runnable jobs of one kind (as runnable() orders them) to `jobs`.
    Status runnable_of(JobKind kind, bool normal_allowed, std::size_t limit,
                       std::vector<Job>& jobs);
    Status count_states(QueueSnapshot& snap);
    Result<Receipt> read_receipt(const std::string& json);
    Status audit(std::string_view actor, std::string_view event, const nlohmann::json& details);
    // Runs one statement (its parameters bound by `bind`) and its audit entry in one
    // transaction. With `unchanged` set, a statement that changed no row fails as
    // Errc::not_found with that message, and nothing is written.
    Status change_audited(std::string_view sql, const std::function<void(store::Statement&)>& bind,
                          std::string_view actor, std::string_view event,
                          const nlohmann::json& details,
                          std::optional<std::string> unchanged = std::nullopt);

    store::Store* store_;
    const Clock* clock_;
};

}  // namespace exhibit::upload
