#include "catalog.hpp"

#include <fmt/format.h>

namespace exhibit::store {

std::string_view to_string(LawfulBasis v) {
    return v == LawfulBasis::consent ? "consent" : "other";
}
std::string_view to_string(SessionState v) {
    switch (v) {
        case SessionState::created:
            return "created";
        case SessionState::running:
            return "running";
        case SessionState::completed:
            return "completed";
        case SessionState::interrupted:
            return "interrupted";
        case SessionState::failed:
            return "failed";
        case SessionState::cancelled:
            return "cancelled";
    }
    return "?";
}
std::string_view to_string(Owner v) {
    switch (v) {
        case Owner::victim:
            return "victim";
        case Owner::witness:
            return "witness";
        case Owner::other:
            return "other";
    }
    return "?";
}
std::optional<Owner> owner_from(std::string_view text) {
    for (auto o : {Owner::victim, Owner::witness, Owner::other})
        if (to_string(o) == text)
            return o;
    return std::nullopt;
}
std::string_view to_string(ItemState v) {
    return v == ItemState::complete ? "complete" : "incomplete";
}
std::string_view to_string(Integrity v) {
    switch (v) {
        case Integrity::ok:
            return "ok";
        case Integrity::missing:
            return "missing";
        case Integrity::mismatch:
            return "mismatch";
    }
    return "?";
}
std::string_view to_string(Priority v) {
    return v == Priority::urgent ? "urgent" : "normal";
}

std::optional<SessionState> session_state_from(std::string_view text) {
    for (auto s : {SessionState::created, SessionState::running, SessionState::completed,
                   SessionState::interrupted, SessionState::failed, SessionState::cancelled})
        if (to_string(s) == text)
            return s;
    return std::nullopt;
}

namespace {
constexpr std::string_view kItemColumns =
    "id, session_id, category, source_path, declared_size, size, source_mtime_ms, sha256, blob, "
    "state, incomplete_reason, integrity, created_at_ms";

ItemRecord read_item(const Statement& s) {
    ItemRecord r;
    r.id = s.column_int(0);
    r.session_id = s.column_int(1);
    r.category = s.column_text(2);
    r.source_path = s.column_text(3);
    r.declared_size = s.column_optional_int(4);
    r.size = s.column_int(5);
    r.source_mtime_ms = s.column_optional_int(6);
    r.sha256 = s.column_text(7);
    r.blob = s.column_text(8);
    r.state = s.column_text(9) == "complete" ? ItemState::complete : ItemState::incomplete;
    r.incomplete_reason = s.column_optional_text(10);
    auto integrity = s.column_text(11);
    r.integrity = integrity == "ok"        ? Integrity::ok
                  : integrity == "missing" ? Integrity::missing
                                           : Integrity::mismatch;
    r.created_at_ms = s.column_int(12);
    return r;
}

Result<std::vector<ItemRecord>> query_items(Database& db, std::string_view where,
                                            std::optional<std::int64_t> param) {
    return db.rows(
        fmt::format("SELECT {} FROM items {} ORDER BY id", kItemColumns, where),
        [&](Statement& s) {
            if (param)
                s.bind(1, *param);
        },
        read_item);
}
}  // namespace

Result<std::int64_t> Catalog::create_case(const CaseSpec& spec, std::string_view actor) {
    auto tx = Transaction::begin(*db_);
    if (!tx)
        return std::unexpected(tx.error());
    auto stmt = db_->prepare(
        "INSERT INTO cases (case_reference, exhibit_reference, officer_id, basis, basis_detail, "
        "scope, created_at_ms, owner) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!stmt)
        return std::unexpected(stmt.error());
    stmt->bind(1, spec.case_reference)
        .bind(2, spec.exhibit_reference)
        .bind(3, spec.officer_id)
        .bind(4, to_string(spec.basis))
        .bind(5, spec.basis_detail.dump())
        .bind(6, spec.scope.dump())
        .bind(7, to_unix_ms(clock_->now()))
        .bind(8, spec.owner ? std::optional<std::string>(to_string(*spec.owner)) : std::nullopt);
    if (auto s = stmt->run(); !s)
        return std::unexpected(s.error());
    const auto id = db_->last_insert_rowid();
    nlohmann::json details = {{"case_id", id},
                              {"case_reference", spec.case_reference},
                              {"exhibit_reference", spec.exhibit_reference},
                              {"officer_id", spec.officer_id},
                              {"basis", to_string(spec.basis)},
                              {"basis_detail", spec.basis_detail},
                              {"scope", spec.scope}};
    if (spec.owner)
        details["owner"] = to_string(*spec.owner);
    if (auto e = audit_->append_in_transaction(actor, "case.created", details); !e)
        return std::unexpected(e.error());
    if (auto s = tx->commit(); !s)
        return std::unexpected(s.error());
    return id;
}

Result<std::int64_t> Catalog::create_session(std::int64_t case_id, const nlohmann::json& device,
                                             std::optional<std::string> device_serial,
                                             Priority priority, std::string_view actor,
                                             const nlohmann::json& method) {
    if (!method.is_null() && !method.is_object())
        return fail(Errc::invalid_argument, "a session's method is an object");
    auto tx = Transaction::begin(*db_);
    if (!tx)
        return std::unexpected(tx.error());
    auto stmt = db_->prepare(
        "INSERT INTO sessions (case_id, device, device_serial, state, priority, started_at_ms, "
        "method) VALUES (?1, ?2, ?3, 'created', ?4, ?5, ?6)");
    if (!stmt)
        return std::unexpected(stmt.error());
    stmt->bind(1, case_id)
        .bind(2, device.dump())
        .bind(3, device_serial)
        .bind(4, to_string(priority))
        .bind(5, to_unix_ms(clock_->now()))
        .bind(6, method.is_null() ? std::nullopt : std::optional(method.dump()));
    if (auto s = stmt->run(); !s)
        return std::unexpected(s.error());
    const auto id = db_->last_insert_rowid();
    nlohmann::json details = {{"session_id", id},
                              {"case_id", case_id},
                              {"device", device},
                              {"priority", to_string(priority)}};
    if (!method.is_null())
        details["method"] = method;
    if (auto e = audit_->append_in_transaction(actor, "session.created", details); !e)
        return std::unexpected(e.error());
    if (auto s = tx->commit(); !s)
        return std::unexpected(s.error());
    return id;
}

Status Catalog::set_session_state(std::int64_t session_id, SessionState state,
                                  std::optional<std::string> reason, std::string_view actor) {
    auto tx = Transaction::begin(*db_);
    if (!tx)
        return std::unexpected(tx.error());
    const bool ends = state != SessionState::running && state != SessionState::created;
    auto stmt = db_->prepare(
        "UPDATE sessions SET state = ?2, state_reason = ?3, "
        "ended_at_ms = CASE WHEN ?4 THEN ?5 ELSE ended_at_ms END WHERE id = ?1");
    if (!stmt)
        return std::unexpected(stmt.error());
    stmt->bind(1, session_id)
        .bind(2, to_string(state))
        .bind(3, reason)
        .bind(4, std::int64_t{ends})
        .bind(5, to_unix_ms(clock_->now()));
    if (auto s = stmt->run(); !s)
        return s;
    if (db_->changes() == 0)
        return fail(Errc::not_found, fmt::format("no session {}", session_id));
    nlohmann::json details = {{"session_id", session_id}, {"state", to_string(state)}};
    if (reason)
        details["reason"] = *reason;
    if (auto e = audit_->append_in_transaction(actor, fmt::format("session.{}", to_string(state)),
                                               details);
        !e)
        return std::unexpected(e.error());
    return tx->commit();
}

Status Catalog::set_session_device(std::int64_t session_id, const nlohmann::json& device,
                                   std::optional<std::string> serial,
                                   std::optional<std::int64_t> clock_offset_ms) {
    auto tx = Transaction::begin(*db_);
    if (!tx)
        return std::unexpected(tx.error());
    auto stmt = db_->prepare(
        "UPDATE sessions SET device = ?2, device_serial = ?3, clock_offset_ms = ?4 WHERE id = ?1");
    if (!stmt)
        return std::unexpected(stmt.error());
    stmt->bind(1, session_id)
        .bind(2, device.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
        .bind(3, serial)
        .bind(4, clock_offset_ms);
    if (auto s = stmt->run(); !s)
        return s;
    if (db_->changes() == 0)
        return fail(Errc::not_found, fmt::format("no session {}", session_id));
    nlohmann::json details = {{"session_id", session_id}, {"device", device}};
    if (clock_offset_ms)
        details["clock_offset_ms"] = *clock_offset_ms;
    if (auto e = audit_->append_in_transaction("exhibitd", "session.device_identified", details);
        !e)
        return std::unexpected(e.error());
    return tx->commit();
}

Result<CaseRecord> Catalog::case_of(std::int64_t case_id) {
    auto stmt = db_->prepare(
        "SELECT case_reference, exhibit_reference, officer_id, basis, basis_detail, scope, "
        "created_at_ms, owner FROM cases WHERE id = ?1");
    if (!stmt)
        return std::unexpected(stmt.error());
    stmt->bind(1, case_id);
    auto row = stmt->step();
    if (!row)
        return std::unexpected(row.error());
    if (!*row)
        return fail(Errc::not_found, fmt::format("no case {}", case_id));
    CaseRecord r{.id = case_id};
    r.spec.case_reference = stmt->column_text(0);
    r.spec.exhibit_reference = stmt->column_text(1);
    r.spec.officer_id = stmt->column_text(2);
    r.spec.basis = stmt->column_text(3) == "other" ? LawfulBasis::other : LawfulBasis::consent;
    r.spec.basis_detail = nlohmann::json::parse(stmt->column_text(4), nullptr, false);
    r.spec.scope = nlohmann::json::parse(stmt->column_text(5), nullptr, false);
    r.created_at_ms = stmt->column_int(6);
    if (auto owner = stmt->column_optional_text(7))
        r.spec.owner = owner_from(*owner);
    return r;
}

Result<SessionRecord> Catalog::session(std::int64_t id) {
    auto stmt = db_->prepare(
        "SELECT id, case_id, device, device_serial, state, state_reason, priority, "
        "clock_offset_ms, started_at_ms, ended_at_ms, method FROM sessions WHERE id = ?1");
    if (!stmt)
        return std::unexpected(stmt.error());
    stmt->bind(1, id);
    auto row = stmt->step();
    if (!row)
        return std::unexpected(row.error());
    if (!*row)
        return fail(Errc::not_found, fmt::format("no session {}", id));
    SessionRecord r;
    r.id = stmt->column_int(0);
    r.case_id = stmt->column_int(1);
    r.device = nlohmann::json::parse(stmt->column_text(2), nullptr, false);
    r.device_serial = stmt->column_optional_text(3);
    r.state = session_state_from(stmt->column_text(4)).value_or(SessionState::failed);
    r.state_reason = stmt->column_optional_text(5);
    r.priority = stmt->column_text(6) == "urgent" ? Priority::urgent : Priority::normal;
    r.clock_offset_ms = stmt->column_optional_int(7);
    r.started_at_ms = stmt->column_int(8);
    r.ended_at_ms = stmt->column_optional_int(9);
    if (auto method = stmt->column_optional_text(10))
        r.method = nlohmann::json::parse(*method, nullptr, false);
    return r;
}

Result<ItemRecord> Catalog::item(std::int64_t id) {
    auto items = query_items(*db_, "WHERE id = ?1", id);
    if (!items)
        return std::unexpected(items.error());
    if (items->empty())
        return fail(Errc::not_found, fmt::format("no item {}", id));
    return std::move(items->front());
}

Result<std::vector<ItemRecord>> Catalog::items_of_session(std::int64_t session_id) {
    return query_items(*db_, "WHERE session_id = ?1", session_id);
}

Result<std::vector<ItemRecord>> Catalog::all_items() {
    // A blob released after its receipt and the retention period is gone on purpose.
    return query_items(*db_,
                       "WHERE id NOT IN (SELECT item_id FROM uploads "
                       "WHERE blob_released_at_ms IS NOT NULL)",
                       std::nullopt);
}

Result<std::int64_t> Catalog::insert_item_in_transaction(const ItemRecord& item) {
    auto cached = db_->prepare_cached(
        "INSERT INTO items (session_id, category, source_path, declared_size, size, "
        "source_mtime_ms, sha256, blob, state, incomplete_reason, created_at_ms, source_path_raw) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
    if (!cached)
        return std::unexpected(cached.error());
    Statement& stmt = **cached;
    stmt.bind(1, item.session_id)
        .bind(2, item.category)
        .bind(3, item.source_path)
        .bind(4, item.declared_size)
        .bind(5, item.size)
        .bind(6, item.source_mtime_ms)
        .bind(7, item.sha256)
        .bind(8, item.blob)
        .bind(9, to_string(item.state))
        .bind(10, item.incomplete_reason)
        .bind(11, item.created_at_ms);
    if (item.source_path_raw)
        stmt.bind(12, std::as_bytes(std::span(*item.source_path_raw)));
    if (auto s = stmt.run(); !s)
        return std::unexpected(s.error());
    return db_->last_insert_rowid();
}

Status Catalog::set_integrity(std::int64_t item_id, Integrity integrity) {
    auto stmt =
        db_->prepare("UPDATE items SET integrity = ?2, integrity_checked_at_ms = ?3 WHERE id = ?1");
    if (!stmt)
        return std::unexpected(stmt.error());
    stmt->bind(1, item_id).bind(2, to_string(integrity)).bind(3, to_unix_ms(clock_->now()));
    return stmt->run();
}

}  // namespace exhibit::store
