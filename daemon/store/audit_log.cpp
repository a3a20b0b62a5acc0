#include "audit_log.hpp"

#include <fmt/format.h>

#include "common/sha256.hpp"

namespace exhibit::store {

namespace {
Result<std::optional<AuditEntry>> last_entry(Database& db) {
    auto cached = db.prepare_cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
    if (!cached)
        return std::unexpected(cached.error());
    Statement& stmt = **cached;
    auto row = stmt.step();
    if (!row)
        return std::unexpected(row.error());
    if (!*row)
        return std::optional<AuditEntry>();
    AuditEntry e;
    e.seq = stmt.column_int(0);
    e.hash = stmt.column_text(1);
    return std::optional<AuditEntry>(std::move(e));
}
}  // namespace

Result<AuditEntry> AuditLog::insert_entry(const std::optional<AuditEntry>& last,
                                          std::string_view actor, std::string_view event,
                                          const nlohmann::json& details) {
    AuditEntry e;
    e.seq = last ? last->seq + 1 : 1;
    e.prev_hash = last ? last->hash : std::string(kGenesisHash);
    e.time = format_utc_ms(clock_->now());
    e.actor = actor;
    e.event = event;
    // Invalid UTF-8 from a phone is replaced rather than refused: the log must always record.
    e.details = details.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    e.hash = audit_entry_hash(e);

    auto cached = db_->prepare_cached(
        "INSERT INTO audit (seq, time, actor, event, details, prev_hash, hash) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!cached)
        return std::unexpected(cached.error());
    Statement& insert = **cached;
    insert.bind(1, e.seq)
        .bind(2, e.time)
        .bind(3, e.actor)
        .bind(4, e.event)
        .bind(5, e.details)
        .bind(6, e.prev_hash)
        .bind(7, e.hash);
    if (auto s = insert.run(); !s)
        return std::unexpected(s.error());
    return e;
}

Status AuditLog::sign_head(const AuditEntry& newest) {
    auto sig = key_->sign(audit_head_message(newest.seq, newest.hash));
    if (!sig)
        return std::unexpected(sig.error());
    auto cached = db_->prepare_cached(
        "INSERT INTO audit_head (id, seq, hash, key_fingerprint, signature) "
        "VALUES (1, ?1, ?2, ?3, ?4) ON CONFLICT (id) DO UPDATE SET "
        "seq = excluded.seq, hash = excluded.hash, key_fingerprint = excluded.key_fingerprint, "
        "signature = excluded.signature");
    if (!cached)
        return std::unexpected(cached.error());
    Statement& head = **cached;
    head.bind(1, newest.seq)
        .bind(2, newest.hash)
        .bind(3, key_->fingerprint())
        .bind(4, to_hex(*sig));
    return head.run();
}

Result<AuditEntry> AuditLog::append_in_transaction(std::string_view actor, std::string_view event,
                                                   const nlohmann::json& details) {
    auto entries = append_all_in_transaction(actor, event, std::span(&details, 1));
    if (!entries)
        return std::unexpected(entries.error());
    return std::move(entries->front());
}

Result<std::vector<AuditEntry>> AuditLog::append_all_in_transaction(
    std::string_view actor, std::string_view event, std::span<const nlohmann::json> details) {
    std::vector<AuditEntry> entries;
    if (details.empty())
        return entries;
    auto last = last_entry(*db_);
    if (!last)
        return std::unexpected(last.error());
    std::optional<AuditEntry> previous = std::move(*last);
    entries.reserve(details.size());
    for (const auto& d : details) {
        auto e = insert_entry(previous, actor, event, d);
        if (!e)
            return std::unexpected(e.error());
        previous = *e;
        entries.push_back(std::move(*e));
    }
    if (auto s = sign_head(entries.back()); !s)
        return std::unexpected(s.error());
    return entries;
}

Result<AuditEntry> AuditLog::append(std::string_view actor, std::string_view event,
                                    const nlohmann::json& details) {
    auto tx = Transaction::begin(*db_);
    if (!tx)
        return std::unexpected(tx.error());
    auto e = append_in_transaction(actor, event, details);
    if (!e)
        return e;
    if (auto s = tx->commit(); !s)
        return std::unexpected(s.error());
    return e;
}

Result<std::uint64_t> AuditLog::count() {
    auto stmt = db_->prepare("SELECT count(*) FROM audit");
    if (!stmt)
        return std::unexpected(stmt.error());
    if (auto r = stmt->step(); !r)
        return std::unexpected(r.error());
    return static_cast<std::uint64_t>(stmt->column_int(0));
}

Result<AuditVerifyReport> AuditLog::verify(const keys::PublicKey* key) {
    if (!key)
        key = &key_->public_key();
    AuditVerifyReport report;
    report.head_hash = kGenesisHash;
    auto broken = [&](std::int64_t seq, std::string problem) {
        report.first_broken = seq;
        report.problem = std::move(problem);
        return report;
    };

    std::int64_t expected = 1;
    auto chain = db_->each(
        "SELECT seq, time, actor, event, details, prev_hash, hash FROM audit ORDER BY seq",
        no_parameters, [&](const Statement& row) {
            AuditEntry e{row.column_int(0),  row.column_text(1), row.column_text(2),
                         row.column_text(3), row.column_text(4), row.column_text(5),
                         row.column_text(6)};
            if (e.seq != expected)
                broken(expected,
                       fmt::format("entry {} is missing (next entry is {})", expected, e.seq));
            else if (e.prev_hash != report.head_hash)
                broken(e.seq, fmt::format("entry {} does not follow entry {}: its previous hash "
                                          "differs",
                                          e.seq, e.seq - 1));
            else if (audit_entry_hash(e) != e.hash)
                broken(e.seq, fmt::format("entry {} was altered: its content does not match its "
                                          "hash",
                                          e.seq));
            else {
                report.head_hash = e.hash;
                ++report.entries;
                ++expected;
            }
            return report.ok();  // on to the next entry, or stop at the first broken one
        });
    if (!chain)
        return std::unexpected(chain.error());
    if (!report.ok())
        return report;

    auto head = db_->prepare("SELECT seq, hash, signature FROM audit_head WHERE id = 1");
    if (!head)
        return std::unexpected(head.error());
    auto row = head->step();
    if (!row)
        return std::unexpected(row.error());
    if (!*row) {
        if (report.entries == 0)
            return report;
        return broken(expected - 1, "the signed head of the log is missing");
    }
    const std::int64_t head_seq = head->column_int(0);
    const std::string head_hash = head->column_text(1);
    std::string sig_hex = head->column_text(2);
    if (head_seq >= expected)
        return broken(expected,
                      fmt::format("entry {} is missing: the signed head names {} entries, "
                                  "the log ends at {}",
                                  expected, head_seq, expected - 1));
    if (head_seq != expected - 1 || head_hash != report.head_hash)
        return broken(head_seq + 1,
                      fmt::format("entries after {} are not covered by the signed head", head_seq));
    auto signature = from_hex(sig_hex);
    if (!signature || !key->verify(audit_head_message(head_seq, head_hash), *signature))
        return broken(head_seq,
                      "the signature of the log's head does not verify with the kiosk key");
    return report;
}

}  // namespace exhibit::store
