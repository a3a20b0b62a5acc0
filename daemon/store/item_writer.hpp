// Streams one item from a phone into the store: bytes are hashed (SHA-256) and written to a
// spool file in one pass (by a SpoolWriter, off the caller's thread for large items);
// finish() fsyncs, renames the file into the blob store and commits
// the catalog row with its audit entry. Destroying an unfinished writer aborts it (the spool
// file is removed and nothing is recorded).
//
// Thread-bound: use it on the thread that owns its Store.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/sha256.hpp"
#include "daemon/store/blob_store.hpp"
#include "daemon/store/catalog.hpp"
#include "daemon/store/spool_writer.hpp"

namespace exhibit::store {

class Store;

struct ItemSpec {
    std::int64_t session_id = 0;
    std::string category;     // "photos", "messages", ...
    std::string source_path;  // the phone's path, exact bytes (need not be UTF-8)
    std::optional<std::uint64_t> declared_size;  // what the phone said the size is
    std::optional<std::int64_t> source_mtime_ms;
};

// An item whose bytes are all written and hashed, waiting to be committed (alone by
// ItemWriter::finish, or with others by Store::commit_items).
struct SealedItem {
    SpoolFile spool;
    // The content's digest: a small item's may still be being computed (and its bytes
    // written) by a helper; Store::commit_items waits for it and fills `digest`,
    // record.sha256 and record.blob.
    std::shared_ptr<PendingDigest> pending;
    Digest digest{};
    ItemRecord record;  // id is 0 until committed
};

class ItemWriter {
  public:
    ItemWriter(ItemWriter&&) noexcept;
    ItemWriter& operator=(ItemWriter&&) = delete;
    ~ItemWriter();

    Status append(std::span<const std::byte> chunk);

    // Stores the item. If the phone declared a size and the received count differs, the item
    // is recorded as incomplete with that reason; it is never silently truncated.
    Result<ItemRecord> finish();
    // Stores what was received as an incomplete item with `reason` (a stall, a disconnect).
    Result<ItemRecord> finish_incomplete(std::string reason);
    // As finish() / finish_incomplete(), but leaves the commit to Store::commit_items, so
    // that many small items share one flush and one transaction.
    Result<SealedItem> seal();
    Result<SealedItem> seal_incomplete(std::string reason);
    // Drops everything received; nothing is recorded.
    void abort();

    std::uint64_t bytes_written() const { return writer_ ? writer_->appended() : 0; }

  private:
    friend class Store;
    ItemWriter(Store& store, ItemSpec spec, SpoolFile spool);
    std::optional<std::string> size_problem() const;
    Result<SealedItem> seal_with(std::optional<std::string> incomplete_reason);
    Result<ItemRecord> commit_one(Result<SealedItem> sealed);

    Store* store_;
    ItemSpec spec_;
    SpoolFile spool_;
    std::unique_ptr<SpoolWriter> writer_;  // declared after spool_: stopped before it closes
    bool open_ = true;
};

// The printable form of a phone path: valid UTF-8 is kept, anything else becomes \xNN.
std::string printable_path(std::string_view raw);

}  // namespace exhibit::store
