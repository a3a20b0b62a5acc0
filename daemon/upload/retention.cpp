#include "retention.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>
#include <fmt/std.h>

#include "common/fs.hpp"
#include "common/log.hpp"
#include "daemon/upload/message_ids.hpp"

namespace exhibit::upload {

namespace {

template <class T>
std::unexpected<Error> err(const Result<T>& r) {
    return std::unexpected(r.error());
}

Result<bool> session_open(store::Database& db) {
    auto stmt = db.prepare("SELECT count(*) FROM sessions WHERE state IN ('created', 'running')");
    if (!stmt)
        return err(stmt);
    if (auto r = stmt->step(); !r)
        return err(r);
    return stmt->column_int(0) > 0;
}

struct Candidate {
    std::string blob;
    std::string sha256;
    std::int64_t size = 0;
};

// Blobs whose every item has a receipt older than `cutoff_ms` and is not yet released.
Result<std::vector<Candidate>> candidates(store::Database& db, std::int64_t cutoff_ms) {
    return db.rows(
        "SELECT i.blob, i.sha256, max(i.size) FROM items i JOIN uploads u ON u.item_id = i.id "
        "WHERE u.blob_released_at_ms IS NULL GROUP BY i.blob "
        "HAVING count(*) = (SELECT count(*) FROM items j JOIN uploads v ON v.item_id = j.id "
        "  WHERE j.blob = i.blob AND v.state = 'received' AND v.received_at_ms <= ?1) "
        "AND count(*) = (SELECT count(*) FROM items k WHERE k.blob = i.blob "
        "  AND k.id NOT IN (SELECT item_id FROM uploads WHERE blob_released_at_ms IS NOT NULL))",
        [&](store::Statement& q) { q.bind(1, cutoff_ms); },
        [](const store::Statement& row) {
            return Candidate{row.column_text(0), row.column_text(1), row.column_int(2)};
        });
}

Result<bool> release(store::Store& store, const Candidate& c, std::int64_t cutoff_ms,
                     std::int64_t now_ms) {
    auto& db = store.database();
    auto tx = store::Transaction::begin(db);  // BEGIN IMMEDIATE: no writer can commit meanwhile
    if (!tx)
        return err(tx);
    auto open = session_open(db);
    if (!open)
        return err(open);
    if (*open)
        return false;
    // Re-check under the write lock: every item sharing the blob is received long enough.
    auto still = candidates(db, cutoff_ms);
    if (!still)
        return err(still);
    if (std::ranges::find_if(*still, [&](const Candidate& x) { return x.blob == c.blob; }) ==
        still->end())
        return false;
    nlohmann::json items = nlohmann::json::array();
    if (auto s = db.each(
            "UPDATE uploads SET blob_released_at_ms = ?2 WHERE item_id IN "
            "(SELECT id FROM items WHERE blob = ?1) RETURNING item_id",
            [&](store::Statement& q) { q.bind(1, c.blob).bind(2, now_ms); },
            [&](const store::Statement& row) { items.push_back(row.column_int(0)); });
        !s)
        return std::unexpected(s.error());
    if (auto e = store.audit().append_in_transaction(
            "exhibitd", "upload.blob_released",
            {{"blob", c.blob},
             {"sha256", c.sha256},
             {"size", c.size},
             {"items", items},
             {"reason", "received by the DFU store and past the retention period"}});
        !e)
        return err(e);
    // Commit first, then delete: a failed commit (a full disk) deletes nothing, and a crash
    // in between leaves a released file behind (space, not evidence, is lost).
    if (auto s = tx->commit(); !s)
        return std::unexpected(s.error());
    const auto path = store.blobs().path_of_relative(c.blob);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        log::event(
            log::Level::warning, message_id::kBlobReleaseFailed,
            fmt::format("cannot delete released blob {}: {}", path.string(), std::strerror(errno)),
            {{"EXHIBIT_SHA256", c.sha256}, log::field::error_class(Errc::io)});
    return true;
}

}  // namespace

Result<RetentionReport> release_expired_blobs(store::Store& store, std::chrono::seconds retention,
                                              const Clock& clock) {
    RetentionReport report;
    auto& db = store.database();
    auto open = session_open(db);
    if (!open)
        return err(open);
    if (*open) {
        report.skipped_for_open_session = true;
        return report;
    }
    const auto now_ms = to_unix_ms(clock.now());
    const auto cutoff_ms =
        now_ms - std::chrono::duration_cast<std::chrono::milliseconds>(retention).count();
    auto list = candidates(db, cutoff_ms);
    if (!list)
        return err(list);
    for (const auto& c : *list) {
        auto done = release(store, c, cutoff_ms, now_ms);
        if (!done)
            return err(done);
        if (!*done)
            continue;
        ++report.blobs_released;
        report.bytes_freed += static_cast<std::uint64_t>(c.size);
        log::event(log::Level::info, message_id::kBlobReleased,
                   fmt::format("released local copy of {} ({} bytes) after receipt and retention",
                               c.sha256, c.size),
                   {{"EXHIBIT_SHA256", c.sha256}, {"EXHIBIT_SIZE", std::to_string(c.size)}});
    }
    return report;
}

}  // namespace exhibit::upload
