#include "upload_queue.hpp"

#include <algorithm>
#include <iterator>

#include <fmt/format.h>

#include "daemon/upload/upload_queue_sql.hpp"

namespace exhibit::upload {

using namespace queue_sql;

namespace {

constexpr std::string_view kActor = "exhibitd";

std::string basename_of(const std::string& path) {
    auto slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::string_view to_string(Lane lane) {
    return lane == Lane::urgent ? "urgent" : "normal";
}
std::string_view to_string(UploadState s) {
    switch (s) {
        case UploadState::queued:
            return "queued";
        case UploadState::uploading:
            return "uploading";
        case UploadState::received:
            return "received";
        case UploadState::failed:
            return "failed";
        case UploadState::cancelled:
            return "cancelled";
    }
    return "?";
}
std::string_view to_string(JobKind kind) {
    return kind == JobKind::item ? "item" : "manifest";
}
std::optional<Lane> lane_from(std::string_view text) {
    if (text == "urgent")
        return Lane::urgent;
    if (text == "normal")
        return Lane::normal;
    return std::nullopt;
}
std::optional<UploadState> upload_state_from(std::string_view text) {
    for (auto s : {UploadState::queued, UploadState::uploading, UploadState::received,
                   UploadState::failed, UploadState::cancelled})
        if (to_string(s) == text)
            return s;
    return std::nullopt;
}

std::string describe(const JobKey& key) {
    return key.kind == JobKind::item ? fmt::format("item {}", key.id)
                                     : fmt::format("manifest of session {}", key.id);
}

log::Field kind_field(const JobKey& key) {
    return {"EXHIBIT_UPLOAD_KIND", key.kind == JobKind::item ? "item" : "manifest"};
}

log::Field id_field(const JobKey& key) {
    return key.kind == JobKind::item ? log::field::item(key.id) : log::field::session(key.id);
}

nlohmann::json Receipt::to_json() const {
    nlohmann::json j = {{"url", url},
                        {"offset", offset},
                        {"length", length},
                        {"checksum", checksum},
                        {"received_at", format_utc_ms(received_at)},
                        {"rule", rule}};
    if (dfu)
        j["dfu_receipt"] = {{"upload_id", dfu->upload_id},
                            {"sha256", dfu->sha256},
                            {"size", dfu->size},
                            {"verdict", dfu->verdict},
                            {"verified_at", dfu->verified_at}};
    if (!note.empty())
        j["note"] = note;
    if (same_content_as)
        j["same_content_as_item"] = *same_content_as;
    return j;
}

Result<Receipt> UploadQueue::read_receipt(const std::string& text) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return fail(Errc::corrupt, "a stored upload receipt is not JSON");
    Receipt r;
    r.url = j.value("url", "");
    r.offset = j.value("offset", std::uint64_t{0});
    r.length = j.value("length", std::uint64_t{0});
    r.checksum = j.value("checksum", "");
    r.received_at = clock_->now();
    // Receipts from before the rule was recorded were all by offset.
    r.rule = j.value("rule", "offset");
    r.note = j.value("note", "");
    if (auto d = j.find("dfu_receipt"); d != j.end() && d->is_object())
        r.dfu = DfuReceipt{d->value("upload_id", ""), d->value("sha256", ""),
                           d->value("size", std::uint64_t{0}), d->value("verdict", ""),
                           d->value("verified_at", "")};
    return r;
}

Status UploadQueue::audit(std::string_view actor, std::string_view event,
                          const nlohmann::json& details) {
    if (auto e = store_->audit().append_in_transaction(actor, event, details); !e)
        return std::unexpected(e.error());
    return {};
}

Status UploadQueue::change_audited(std::string_view sql,
                                   const std::function<void(store::Statement&)>& bind,
                                   std::string_view actor, std::string_view event,
                                   const nlohmann::json& details,
                                   std::optional<std::string> unchanged) {
    auto& db = store_->database();
    auto tx = store::Transaction::begin(db);
    if (!tx)
        return err(tx);
    auto stmt = db.prepare(sql);
    if (!stmt)
        return err(stmt);
    bind(*stmt);
    if (auto s = stmt->run(); !s)
        return s;
    if (unchanged && db.changes() == 0)
        return fail(Errc::not_found, std::move(*unchanged));
    if (auto s = audit(actor, event, details); !s)
        return s;
    return tx->commit();
}

Result<int> UploadQueue::enqueue_new_items() {
    auto& db = store_->database();
    struct Row {
        std::int64_t id, session;
        std::string lane;
        std::int64_t size;
        std::string sha256;
    };
    auto found = db.rows(
        "SELECT i.id, i.session_id, s.priority, i.size, i.sha256 FROM items i "
        "JOIN sessions s ON s.id = i.session_id "
        "WHERE NOT EXISTS (SELECT 1 FROM uploads u WHERE u.item_id = i.id) ORDER BY i.id",
        store::no_parameters, [](const store::Statement& row) {
            return Row{row.column_int(0), row.column_int(1), row.column_text(2), row.column_int(3),
                       row.column_text(4)};
        });
    if (!found)
        return err(found);
    const auto& rows = *found;
    if (rows.empty())
        return 0;
    auto tx = store::Transaction::begin(db);
    if (!tx)
        return err(tx);
    const auto now = to_unix_ms(clock_->now());
    for (const auto& r : rows) {
        auto ins = db.prepare(
            "INSERT OR IGNORE INTO uploads (item_id, lane, state, queued_at_ms) "
            "VALUES (?1, ?2, 'queued', ?3)");
        if (!ins)
            return err(ins);
        ins->bind(1, r.id).bind(2, r.lane).bind(3, now);
        if (auto s = ins->run(); !s)
            return std::unexpected(s.error());
        if (db.changes() == 0)
            continue;
        if (auto s = audit(kActor, "upload.queued",
                           {{"item_id", r.id},
                            {"session_id", r.session},
                            {"lane", r.lane},
                            {"size", r.size},
                            {"sha256", r.sha256}});
            !s)
            return std::unexpected(s.error());
    }
    if (auto s = tx->commit(); !s)
        return std::unexpected(s.error());
    return static_cast<int>(rows.size());
}

Status UploadQueue::requeue_interrupted() {
    for (auto kind : {JobKind::item, JobKind::manifest}) {
        auto t = table_of(kind);
        if (auto s = store_->database().exec(
                fmt::format("UPDATE {} SET state = 'queued', next_attempt_at_ms = NULL WHERE state "
                            "= 'uploading'",
                            t.table));
            !s)
            return s;
    }
    return {};
}

namespace {

// What the two kinds of job rows share, selected from `q` (the `uploads` or `manifests` row)
// and `c` (its case): the one column list of a runnable job, and its reader. Each kind's own
// columns follow, from kJobColumnCount on.
constexpr std::string_view kJobColumns =
    "q.lane, q.remote_url, q.remote_offset, q.attempts, q.queued_at_ms, c.case_reference, "
    "c.exhibit_reference";
constexpr int kJobColumnCount = 8;  // the key, then kJobColumns

struct JobRow {
    Job job;
    std::string case_reference, exhibit_reference;
};

JobRow read_job_row(JobKind kind, const store::Statement& row) {
    JobRow r;
    Job& j = r.job;
    j.key = {kind, row.column_int(0)};
    j.lane = lane_from(row.column_text(1)).value_or(Lane::normal);
    j.remote_url = row.column_optional_text(2);
    j.remote_offset = static_cast<std::uint64_t>(row.column_int(3));
    j.attempts = static_cast<int>(row.column_int(4));
    j.queued_at_ms = row.column_int(5);
    r.case_reference = row.column_text(6);
    r.exhibit_reference = row.column_text(7);
    return r;
}

// Each kind's tables (joined up to `s`, the session) and own columns.
struct JobSource {
    std::string_view from;
    std::string_view columns;
};
JobSource source_of(JobKind kind) {
    if (kind == JobKind::item)
        return {"uploads q JOIN items i ON i.id = q.item_id JOIN sessions s ON s.id = i.session_id",
                "i.session_id, i.size, i.sha256, i.blob, i.integrity, i.category, i.source_path, "
                "i.state"};
    return {"manifests q JOIN sessions s ON s.id = q.session_id",
            "q.body, q.sha256, q.signature, q.key_fingerprint"};
}

// A job's Upload-Metadata: what every job carries, around what its kind adds (`own`).
MetadataPairs metadata_of(const JobRow& r, std::string filename, MetadataPairs own,
                          const std::string& kiosk) {
    MetadataPairs m = {{"filename", std::move(filename)},
                       {"type", std::string(to_string(r.job.key.kind))},
                       {"case_reference", r.case_reference},
                       {"exhibit_reference", r.exhibit_reference},
                       {"session_id", std::to_string(r.job.session_id)}};
    m.insert(m.end(), std::make_move_iterator(own.begin()), std::make_move_iterator(own.end()));
    m.emplace_back("kiosk_id", kiosk);
    return m;
}

// An item's own columns.
void finish_item(JobRow& r, const store::Statement& row, const store::BlobStore& blobs,
                 const std::string& kiosk) {
    constexpr int k = kJobColumnCount;
    Job& j = r.job;
    j.session_id = row.column_int(k);
    j.length = static_cast<std::uint64_t>(row.column_int(k + 1));
    j.sha256 = row.column_text(k + 2);
    j.blob = blobs.path_of_relative(row.column_text(k + 3));
    j.blob_intact = row.column_text(k + 4) == "ok";
    const auto source = row.column_text(k + 6);
    j.metadata = metadata_of(r, basename_of(source),
                             {{"item_id", std::to_string(j.key.id)},
                              {"category", row.column_text(k + 5)},
                              {"source_path", source},
                              {"item_state", row.column_text(k + 7)},
                              {"sha256", j.sha256}},
                             kiosk);
}

// A manifest's own columns.
void finish_manifest(JobRow& r, const store::Statement& row, const std::string& kiosk) {
    constexpr int k = kJobColumnCount;
    Job& j = r.job;
    j.session_id = j.key.id;
    j.body = row.column_text(k);
    j.length = j.body.size();
    j.sha256 = row.column_text(k + 1);
    j.metadata = metadata_of(r, fmt::format("session-{}.manifest.json", j.session_id),
                             {{"sha256", j.sha256},
                              {"signature_algorithm", "ed25519"},
                              {"signature", row.column_text(k + 2)},
                              {"key_fingerprint", row.column_text(k + 3)}},
                             kiosk);
}

}  // namespace

Status UploadQueue::runnable_of(JobKind kind, bool normal_allowed, std::size_t limit,
                                std::vector<Job>& jobs) {
    const auto now = to_unix_ms(clock_->now());
    const auto& kiosk = store_->options().kiosk_id;
    const auto key = table_of(kind).key;
    const auto source = source_of(kind);
    return store_->database().each(
        fmt::format("SELECT q.{0}, {1}, {2} FROM {3} JOIN cases c ON c.id = s.case_id "
                    "WHERE q.state = 'queued' AND coalesce(q.next_attempt_at_ms, 0) <= ?1 "
                    "AND (q.lane = 'urgent' OR ?2) "
                    "ORDER BY q.lane = 'urgent' DESC, q.queued_at_ms, q.{0} LIMIT ?3",
                    key, kJobColumns, source.columns, source.from),
        [&](store::Statement& q) {
            q.bind(1, now)
                .bind(2, std::int64_t{normal_allowed})
                .bind(3, static_cast<std::int64_t>(limit));
        },
        [&](const store::Statement& row) {
            auto r = read_job_row(kind, row);
            if (kind == JobKind::item)
                finish_item(r, row, store_->blobs(), kiosk);
            else
                finish_manifest(r, row, kiosk);
            jobs.push_back(std::move(r.job));
        });
}

Result<std::vector<Job>> UploadQueue::runnable(bool normal_allowed, std::size_t limit) {
    std::vector<Job> jobs;
    for (auto kind : {JobKind::item, JobKind::manifest})
        if (auto s = runnable_of(kind, normal_allowed, limit, jobs); !s)
            return std::unexpected(s.error());
    std::ranges::stable_sort(jobs, [](const Job& a, const Job& b) {
        if (a.lane != b.lane)
            return a.lane == Lane::urgent;
        return a.queued_at_ms < b.queued_at_ms;
    });
    if (jobs.size() > limit)
        jobs.resize(limit);
    return jobs;
}

Result<std::optional<TimePoint>> UploadQueue::next_retry(bool normal_allowed) {
    auto stmt = store_->database().prepare(
        "SELECT min(t) FROM (SELECT next_attempt_at_ms AS t, lane FROM uploads WHERE state = "
        "'queued' UNION ALL SELECT next_attempt_at_ms, lane FROM manifests WHERE state = "
        "'queued') WHERE t IS NOT NULL AND (lane = 'urgent' OR ?1)");
    if (!stmt)
        return err(stmt);
    stmt->bind(1, std::int64_t{normal_allowed});
    if (auto r = stmt->step(); !r)
        return err(r);
    auto t = stmt->column_optional_int(0);
    if (!t)
        return std::optional<TimePoint>{};
    return std::optional<TimePoint>{from_unix_ms(*t)};
}

Result<std::uint64_t> UploadQueue::normal_pending() {
    auto stmt = store_->database().prepare(
        "SELECT (SELECT count(*) FROM uploads WHERE lane = 'normal' AND state IN ('queued', "
        "'uploading')) + (SELECT count(*) FROM manifests WHERE lane = 'normal' AND state IN "
        "('queued', 'uploading'))");
    if (!stmt)
        return err(stmt);
    if (auto r = stmt->step(); !r)
        return err(r);
    return static_cast<std::uint64_t>(stmt->column_int(0));
}

Result<std::optional<std::pair<std::int64_t, Receipt>>> UploadQueue::same_content_receipt(
    const Job& job, std::string_view endpoint, bool* busy) {
    *busy = false;
    using Out = std::optional<std::pair<std::int64_t, Receipt>>;
    if (job.key.kind != JobKind::item)
        return Out{};
    struct Other {
        std::int64_t id;
        std::string state;
        std::optional<std::string> receipt;
    };
    auto others = store_->database().rows(
        "SELECT u.item_id, u.state, u.receipt FROM uploads u JOIN items i ON i.id = u.item_id "
        "WHERE i.session_id = ?1 AND i.sha256 = ?2 AND u.item_id != ?3 "
        "AND u.state IN ('received', 'uploading', 'queued') "
        "ORDER BY u.state = 'received' DESC, u.state = 'uploading' DESC, u.item_id",
        [&](store::Statement& q) {
            q.bind(1, job.session_id).bind(2, job.sha256).bind(3, job.key.id);
        },
        [](const store::Statement& row) {
            return Other{row.column_int(0), row.column_text(1), row.column_optional_text(2)};
        });
    if (!others)
        return err(others);
    for (const auto& other : *others) {
        if (other.state != "received") {
            // The lowest id of a set of identical items is the one that travels; the others
            // wait.
            *busy = other.state == "uploading" || other.id < job.key.id;
            return Out{};
        }
        auto receipt = read_receipt(other.receipt.value_or("{}"));
        if (!receipt)
            return err(receipt);
        // Received by a store the configuration no longer names (the DFU moved it): the
        // configured store does not have this content, so it is sent there.
        if (!on_endpoint_origin(endpoint, receipt->url))
            continue;
        receipt->same_content_as = other.id;
        return Out{std::pair{other.id, std::move(*receipt)}};
    }
    return Out{};
}

Status UploadQueue::mark_uploading(const JobKey& key) {
    auto t = table_of(key.kind);
    auto stmt = store_->database().prepare(fmt::format(
        "UPDATE {} SET state = 'uploading' WHERE {} = ?1 AND state = 'queued'", t.table, t.key));
    if (!stmt)
        return err(stmt);
    stmt->bind(1, key.id);
    if (auto s = stmt->run(); !s)
        return s;
    if (store_->database().changes() == 0)
        return fail(Errc::not_found, fmt::format("{} is no longer queued", describe(key)));
    return {};
}

Status UploadQueue::set_remote(const JobKey& key, const std::string& url,
                               std::optional<std::string> recreated_reason) {
    auto t = table_of(key.kind);
    auto details = key_details(key);
    details["url"] = url;
    if (recreated_reason)
        details["reason"] = *recreated_reason;
    return change_audited(
        fmt::format("UPDATE {} SET remote_url = ?2, remote_offset = 0 WHERE {} = ?1", t.table,
                    t.key),
        [&](store::Statement& s) { s.bind(1, key.id).bind(2, url); }, kActor,
        recreated_reason ? "upload.recreated" : "upload.created", details);
}

Status UploadQueue::set_offset(const JobKey& key, std::uint64_t offset) {
    auto t = table_of(key.kind);
    auto stmt = store_->database().prepare(
        fmt::format("UPDATE {} SET remote_offset = ?2, attempts = CASE WHEN ?2 > remote_offset "
                    "THEN 0 ELSE attempts END WHERE {} = ?1",
                    t.table, t.key));
    if (!stmt)
        return err(stmt);
    stmt->bind(1, key.id).bind(2, static_cast<std::int64_t>(offset));
    return stmt->run();
}

Result<int> UploadQueue::defer(const JobKey& key, const std::string& error, TimePoint retry_at,
                               bool count_attempt) {
    auto t = table_of(key.kind);
    auto stmt = store_->database().prepare(fmt::format(
        "UPDATE {} SET state = 'queued', last_error = CASE WHEN ?2 = '' THEN last_error "
        "ELSE ?2 END, next_attempt_at_ms = ?3, "
        "attempts = attempts + ?4 WHERE {} = ?1 AND state IN ('queued', 'uploading') "
        "RETURNING attempts",
        t.table, t.key));
    if (!stmt)
        return err(stmt);
    stmt->bind(1, key.id)
        .bind(2, error)
        .bind(3, to_unix_ms(retry_at))
        .bind(4, std::int64_t{count_attempt});
    auto row = stmt->step();
    if (!row)
        return err(row);
    return *row ? static_cast<int>(stmt->column_int(0)) : 0;
}

Status UploadQueue::mark_received(const JobKey& key, const Receipt& receipt) {
    auto t = table_of(key.kind);
    const auto json = receipt.to_json();
    auto details = key_details(key);
    details["receipt"] = json;
    return change_audited(
        fmt::format(
            "UPDATE {} SET state = 'received', remote_url = ?2, remote_offset = ?3, receipt = ?4, "
            "received_at_ms = ?5, last_error = NULL, next_attempt_at_ms = NULL WHERE {} = ?1 "
            "AND state IN ('queued', 'uploading')",
            t.table, t.key),
        [&](store::Statement& s) {
            s.bind(1, key.id)
                .bind(2, receipt.url)
                .bind(3, static_cast<std::int64_t>(receipt.offset))
                .bind(4, json.dump())
                .bind(5, to_unix_ms(receipt.received_at));
        },
        kActor, "upload.received", details, fmt::format("{} is not being uploaded", describe(key)));
}

Status UploadQueue::mark_failed(const JobKey& key, const std::string& reason) {
    auto t = table_of(key.kind);
    auto details = key_details(key);
    details["reason"] = reason;
    return change_audited(
        fmt::format("UPDATE {} SET state = 'failed', last_error = ?2, next_attempt_at_ms = NULL "
                    "WHERE {} = ?1 AND state IN ('queued', 'uploading')",
                    t.table, t.key),
        [&](store::Statement& s) { s.bind(1, key.id).bind(2, reason); }, kActor, "upload.failed",
        details);
}

Result<std::optional<std::string>> UploadQueue::remote_url(const JobKey& key) {
    auto t = table_of(key.kind);
    auto stmt = store_->database().prepare(
        fmt::format("SELECT remote_url FROM {} WHERE {} = ?1", t.table, t.key));
    if (!stmt)
        return err(stmt);
    stmt->bind(1, key.id);
    auto row = stmt->step();
    if (!row)
        return err(row);
    if (!*row)
        return std::optional<std::string>{};
    return stmt->column_optional_text(0);
}

Result<std::vector<std::int64_t>> UploadQueue::sessions_awaiting_manifest() {
    return store_->database().rows(
        "SELECT s.id FROM sessions s WHERE s.ended_at_ms IS NOT NULL "
        "AND s.state NOT IN ('created', 'running') "
        "AND NOT EXISTS (SELECT 1 FROM manifests m WHERE m.session_id = s.id) "
        "AND NOT EXISTS (SELECT 1 FROM items i LEFT JOIN uploads u ON u.item_id = i.id "
        "  WHERE i.session_id = s.id AND (u.state IS NULL OR u.state NOT IN ('received', "
        "'cancelled'))) ORDER BY s.id",
        store::no_parameters, [](const store::Statement& row) { return row.column_int(0); });
}

Result<nlohmann::json> UploadQueue::deliveries(std::int64_t session_id) {
    nlohmann::json out = nlohmann::json::object();
    auto read = store_->database().each(
        "SELECT i.id, u.state, u.receipt FROM items i JOIN uploads u ON u.item_id = i.id "
        "WHERE i.session_id = ?1 ORDER BY i.id",
        [&](store::Statement& q) { q.bind(1, session_id); },
        [&](const store::Statement& row) {
            nlohmann::json d = {{"state", row.column_text(1)}};
            if (auto receipt = row.column_optional_text(2)) {
                auto j = nlohmann::json::parse(*receipt, nullptr, false);
                if (j.is_object())
                    for (auto field : {"url", "received_at", "checksum", "same_content_as_item"})
                        if (j.contains(field))
                            d[field] = j[field];
            }
            out[std::to_string(row.column_int(0))] = std::move(d);
        });
    if (!read)
        return err(read);
    return out;
}

Status UploadQueue::add_manifest(std::int64_t session_id, const std::string& body,
                                 const std::string& sha256, const std::string& signature,
                                 const std::string& fingerprint) {
    auto& db = store_->database();
    auto tx = store::Transaction::begin(db);
    if (!tx)
        return err(tx);
    const auto now = to_unix_ms(clock_->now());
    auto stmt = db.prepare(
        "INSERT INTO manifests (session_id, body, sha256, signature, key_fingerprint, "
        "created_at_ms, lane, queued_at_ms) SELECT ?1, ?2, ?3, ?4, ?5, ?6, priority, ?6 "
        "FROM sessions WHERE id = ?1");
    if (!stmt)
        return err(stmt);
    stmt->bind(1, session_id)
        .bind(2, body)
        .bind(3, sha256)
        .bind(4, signature)
        .bind(5, fingerprint)
        .bind(6, now);
    if (auto s = stmt->run(); !s)
        return s;
    if (auto s = audit(kActor, "manifest.created",
                       {{"session_id", session_id},
                        {"sha256", sha256},
                        {"size", body.size()},
                        {"signature", signature},
                        {"key_fingerprint", fingerprint}});
        !s)
        return s;
    return tx->commit();
}

Status UploadQueue::count_states(QueueSnapshot& snap) {
    for (auto kind : {JobKind::item, JobKind::manifest}) {
        auto& counts = kind == JobKind::item ? snap.items : snap.manifests;
        auto read = store_->database().each(
            fmt::format("SELECT state, count(*) FROM {} GROUP BY state", table_of(kind).table),
            store::no_parameters, [&](const store::Statement& row) {
                const auto n = static_cast<std::uint64_t>(row.column_int(1));
                switch (upload_state_from(row.column_text(0)).value_or(UploadState::failed)) {
                    case UploadState::queued:
                        counts.queued = n;
                        break;
                    case UploadState::uploading:
                        counts.uploading = n;
                        break;
                    case UploadState::received:
                        counts.received = n;
                        break;
                    case UploadState::failed:
                        counts.failed = n;
                        break;
                    case UploadState::cancelled:
                        counts.cancelled = n;
                        break;
                }
            });
        if (!read)
            return read;
    }
    return {};
}

Result<QueueSnapshot> UploadQueue::snapshot() {
    auto& db = store_->database();
    QueueSnapshot snap;
    if (auto s = count_states(snap); !s)
        return std::unexpected(s.error());
    auto pending = db.prepare(
        "SELECT coalesce(sum(max(i.size - u.remote_offset, 0)), 0) FROM uploads u "
        "JOIN items i ON i.id = u.item_id WHERE u.state IN ('queued', 'uploading')");
    if (!pending)
        return err(pending);
    if (auto r = pending->step(); !r)
        return err(r);
    snap.bytes_pending = static_cast<std::uint64_t>(pending->column_int(0));

    auto oldest = db.prepare(
        "SELECT item_id, queued_at_ms FROM uploads WHERE state IN ('queued', 'uploading') "
        "ORDER BY queued_at_ms, item_id LIMIT 1");
    if (!oldest)
        return err(oldest);
    if (auto r = oldest->step(); !r)
        return err(r);
    else if (*r) {
        snap.oldest_unsent_item = oldest->column_int(0);
        snap.oldest_unsent_since = from_unix_ms(oldest->column_int(1));
    }

    auto last = db.prepare(
        "SELECT max(t) FROM (SELECT max(received_at_ms) AS t FROM uploads UNION ALL "
        "SELECT max(received_at_ms) FROM manifests)");
    if (!last)
        return err(last);
    if (auto r = last->step(); !r)
        return err(r);
    if (auto t = last->column_optional_int(0))
        snap.last_success = from_unix_ms(*t);

    auto error = db.prepare(
        "SELECT last_error FROM (SELECT last_error, next_attempt_at_ms AS t FROM uploads "
        "WHERE state IN ('queued', 'uploading', 'failed') UNION ALL SELECT last_error, "
        "next_attempt_at_ms FROM manifests WHERE state IN ('queued', 'uploading', 'failed')) "
        "WHERE last_error IS NOT NULL ORDER BY coalesce(t, 0) DESC LIMIT 1");
    if (!error)
        return err(error);
    if (auto r = error->step(); !r)
        return err(r);
    else if (*r)
        snap.last_error = error->column_text(0);

    auto requested = sync_requested();
    if (!requested)
        return err(requested);
    snap.sync_requested = *requested;
    return snap;
}

}  // namespace exhibit::upload
