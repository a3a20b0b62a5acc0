// The upload queue's administrator actions (each audited with the caller) and the requested
// sync: cancel, retry one or every failed job, change an item's lane.
#include <limits>

#include <fmt/format.h>

#include "daemon/upload/upload_queue.hpp"
#include "daemon/upload/upload_queue_sql.hpp"

namespace exhibit::upload {

using namespace queue_sql;

Status UploadQueue::cancel(std::int64_t item_id, std::string_view actor) {
    auto& db = store_->database();
    auto tx = store::Transaction::begin(db);
    if (!tx)
        return err(tx);
    auto stmt = db.prepare(
        "UPDATE uploads SET state = 'cancelled', next_attempt_at_ms = NULL WHERE item_id = ?1 "
        "AND state IN ('queued', 'uploading', 'failed') RETURNING remote_url");
    if (!stmt)
        return err(stmt);
    stmt->bind(1, item_id);
    auto row = stmt->step();
    if (!row)
        return err(row);
    if (!*row)
        return fail(Errc::not_found,
                    fmt::format("item {} has no upload that can be cancelled (already received, "
                                "cancelled, or not queued)",
                                item_id));
    nlohmann::json details = {{"item_id", item_id}};
    if (auto url = stmt->column_optional_text(0))
        details["url"] = *url;
    stmt->reset();
    if (auto s = audit(actor, "upload.cancelled", details); !s)
        return s;
    return tx->commit();
}

Status UploadQueue::retry(const JobKey& key, std::string_view actor) {
    auto t = table_of(key.kind);
    return change_audited(
        fmt::format("UPDATE {} SET state = 'queued', attempts = 0, next_attempt_at_ms = NULL "
                    "WHERE {} = ?1 AND state = 'failed'",
                    t.table, t.key),
        [&](store::Statement& s) { s.bind(1, key.id); }, actor, "upload.retried", key_details(key),
        fmt::format("{} has not failed", describe(key)));
}

Result<std::vector<FailedJob>> UploadQueue::failed_jobs(std::size_t limit) {
    std::vector<FailedJob> failed;
    for (auto kind : {JobKind::item, JobKind::manifest}) {
        auto t = table_of(kind);
        auto stmt = store_->database().prepare(
            fmt::format("SELECT {}, coalesce(last_error, '') FROM {} WHERE state = 'failed' "
                        "ORDER BY {} LIMIT ?1",
                        t.key, t.table, t.key));
        if (!stmt)
            return err(stmt);
        stmt->bind(1, static_cast<std::int64_t>(limit - failed.size()));
        while (true) {
            auto row = stmt->step();
            if (!row)
                return err(row);
            if (!*row)
                break;
            failed.push_back({{kind, stmt->column_int(0)}, stmt->column_text(1)});
        }
    }
    return failed;
}

Result<std::uint64_t> UploadQueue::retry_failed(std::string_view actor) {
    auto failed = failed_jobs(std::numeric_limits<std::int64_t>::max());
    if (!failed)
        return err(failed);
    for (const auto& job : *failed)
        if (auto s = retry(job.key, actor); !s)
            return std::unexpected(s.error());
    return failed->size();
}

Status UploadQueue::set_lane(std::int64_t item_id, Lane lane, std::string_view actor) {
    return change_audited(
        "UPDATE uploads SET lane = ?2 WHERE item_id = ?1 AND state IN ('queued', 'uploading', "
        "'failed') AND lane != ?2",
        [&](store::Statement& s) { s.bind(1, item_id).bind(2, to_string(lane)); }, actor,
        "upload.lane_changed", {{"item_id", item_id}, {"lane", to_string(lane)}},
        fmt::format("item {} has no pending upload in another lane", item_id));
}

Status UploadQueue::send_session_now(std::int64_t session_id, std::string_view actor) {
    auto& db = store_->database();
    auto tx = store::Transaction::begin(db);
    if (!tx)
        return err(tx);
    auto run = [&](std::string_view sql) -> Result<int> {
        auto stmt = db.prepare(sql);
        if (!stmt)
            return err(stmt);
        stmt->bind(1, session_id);
        if (auto s = stmt->run(); !s)
            return std::unexpected(s.error());
        return db.changes();
    };
    auto session = run("UPDATE sessions SET priority = 'urgent' WHERE id = ?1");
    if (!session)
        return err(session);
    if (*session == 0)
        return fail(Errc::not_found, fmt::format("there is no session {}", session_id));
    auto items = run(
        "UPDATE uploads SET lane = 'urgent' WHERE lane != 'urgent' AND state IN ('queued', "
        "'uploading', 'failed') AND item_id IN (SELECT id FROM items WHERE session_id = ?1)");
    if (!items)
        return err(items);
    auto manifest = run(
        "UPDATE manifests SET lane = 'urgent' WHERE session_id = ?1 AND lane != 'urgent' AND "
        "state IN ('queued', 'uploading', 'failed')");
    if (!manifest)
        return err(manifest);
    const std::int64_t moved = *items + *manifest;
    if (auto s = audit(actor, "upload.session_urgent",
                       {{"session_id", session_id}, {"uploads_moved", moved}});
        !s)
        return s;
    return tx->commit();
}

Status UploadQueue::request_sync(std::string_view actor) {
    return change_audited(
        "INSERT OR REPLACE INTO sync_request (id, requested_at_ms, actor) VALUES (1, ?1, ?2)",
        [&](store::Statement& s) { s.bind(1, to_unix_ms(clock_->now())).bind(2, actor); }, actor,
        "upload.sync_requested", nlohmann::json::object());
}

Result<bool> UploadQueue::sync_requested() {
    auto stmt = store_->database().prepare("SELECT count(*) FROM sync_request");
    if (!stmt)
        return err(stmt);
    if (auto r = stmt->step(); !r)
        return err(r);
    return stmt->column_int(0) > 0;
}

Status UploadQueue::clear_sync_request() {
    return store_->database().exec("DELETE FROM sync_request");
}

}  // namespace exhibit::upload
