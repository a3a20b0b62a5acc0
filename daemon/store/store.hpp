// The evidence store: the SQLite catalog, content-addressed blobs, the audit chain and the
// kiosk identity key, under one state directory:
//
//   <state>/exhibit.db            catalog (WAL)
//   <state>/blobs/ab/abcdef...    blobs, named by their SHA-256, read-only
//   <state>/spool/                partial files being written
//   <state>/quarantine/           damaged blobs moved aside when a good copy arrived
//   <state>/keys/                 kiosk identity key (and later the ADB host key)
//
// Thread-compatible: one Store per thread (each opens its own SQLite connection); several
// Stores on the same directory in one or more processes are safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "daemon/keys/identity_key.hpp"
#include "daemon/store/audit_log.hpp"
#include "daemon/store/blob_store.hpp"
#include "daemon/store/catalog.hpp"
#include "daemon/store/database.hpp"
#include "daemon/store/item_writer.hpp"

namespace exhibit::store {

// How thoroughly startup checks that every catalogued blob is still intact.
enum class VerifyDepth {
    none,  // trust the catalog (second and later Stores in one process)
    size,  // the blob exists and has the recorded size (fast, the default at startup)
    full,  // re-hash every blob (reads everything; for scrubs and tests)
};

struct StoreOptions {
    std::filesystem::path state_directory;
    std::string kiosk_id;  // identifies this kiosk in audit entries and manifests
    VerifyDepth verify = VerifyDepth::size;
    // At open: end the sessions a stopped exhibitd left running, keep spool leftovers aside,
    // check blobs. Only the one process that owns the store, as it starts (exhibitd): such a
    // Store holds an exclusive lock on <state>/exhibit.lock while it lives, and a second one
    // is refused (Errc::locked) rather than ending the first one's running sessions.
    bool reconcile = true;
    const Clock* clock = &Clock::system();
};

// Why start-up ends a session exhibitd left unfinished.
inline constexpr std::string_view kStoppedDuringExtraction =
    "interrupted: exhibitd stopped during the extraction";
inline constexpr std::string_view kStoppedBeforeExtraction =
    "interrupted: exhibitd stopped before the extraction started";

// What reconciliation found at open (or during a later scrub).
struct ReconcileReport {
    // Sessions found "created" or "running": exhibitd stopped (killed, crashed, power cut)
    // before it could end them. Each is now "interrupted" with its reason, audited.
    std::vector<std::int64_t> sessions_interrupted;
    // Partial spool files (items being written when exhibitd stopped) are never deleted and
    // never presented as complete: one tagged with its item, of a session still open, is
    // recorded as that item, incomplete, with the bytes that are there; any other is moved to
    // quarantine/ and audited as store.spool_kept.
    int partial_items_recorded = 0;
    int spool_files_kept = 0;
    std::uint64_t items_checked = 0;
    std::uint64_t items_missing = 0;   // catalog row whose blob file is gone
    std::uint64_t items_mismatch = 0;  // blob present but size or hash differs
};

struct StoreHealth {
    std::uint64_t items_complete = 0;
    std::uint64_t items_incomplete = 0;
    std::uint64_t items_flagged = 0;  // missing or mismatching blobs: needs a human
    std::uint64_t audit_entries = 0;
    std::string key_fingerprint;
    std::uint64_t free_bytes = 0;
};

// What a purge of the package must know (exhibitd --undelivered): how many items the catalog
// under `state_directory` holds, and how many of them the DFU store has not confirmed
// receiving (no upload in state "received").
struct DeliveryCount {
    std::uint64_t items = 0;
    std::uint64_t undelivered = 0;
};

// Opens the catalog read-only: creates, migrates and reconciles nothing. A directory without
// a catalog holds nothing; a catalog from a newer exhibit, or one that cannot be read, is an
// error and never "nothing undelivered".
Result<DeliveryCount> count_undelivered(const std::filesystem::path& state_directory);

class Store {
  public:
    // Creates the directory layout and the key on first use, migrates the catalog, and
    // reconciles. Fails without changing anything if the catalog is corrupt or from a newer
    // version of exhibit.
    static Result<std::unique_ptr<Store>> open(const StoreOptions& options);

    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;
    ~Store();

    // Starts a streamed item for a session; see ItemWriter.
    Result<ItemWriter> begin_item(ItemSpec spec);

    // Commits sealed items together: one flush of their data, the renames into blobs/, one
    // sync per touched directory and one catalog transaction with their audit entries.
    // Returns the records with their ids, in order.
    Result<std::vector<ItemRecord>> commit_items(std::vector<SealedItem> items);
    // commit_items in two steps: make the items' data durable (waiting for helpers still
    // writing them), then rename, sync and catalogue them. A batch goes through both, in that
    // order. flush_items touches no state of this Store: another thread may call it while
    // this Store's thread catalogues an earlier batch.
    Status flush_items(std::vector<SealedItem>& items);
    Result<std::vector<ItemRecord>> catalogue_items(std::vector<SealedItem> items);

    // Checks every complete item's blob and flags (in catalog and audit) what is wrong.
    Result<ReconcileReport> verify_blobs(VerifyDepth depth);

    Result<StoreHealth> health();
    const ReconcileReport& open_report() const { return open_report_; }

    Catalog& catalog() { return catalog_; }
    AuditLog& audit() { return audit_; }
    BlobStore& blobs() { return blobs_; }
    Database& database() { return db_; }
    const keys::IdentityKey& identity() const { return *identity_; }
    const StoreOptions& options() const { return options_; }

  private:
    Store(StoreOptions options, Database db, std::unique_ptr<keys::IdentityKey> identity,
          UniqueFd owner_lock);
    Status close_unfinished_sessions();
    Status keep_spool_leftovers();
    // Records a tagged spool leftover of a still open session as an incomplete item; false
    // when it has no usable tag or its session has ended.
    Result<bool> record_partial_item(const std::filesystem::path& file, std::int64_t size);

    StoreOptions options_;
    UniqueFd owner_lock_;  // the owner's lock (reconcile); closed last, with the Store
    Database db_;
    std::unique_ptr<keys::IdentityKey> identity_;
    BlobStore blobs_;
    AuditLog audit_;
    Catalog catalog_;
    ReconcileReport open_report_;
};

}  // namespace exhibit::store
