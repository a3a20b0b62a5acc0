#include "daemon/store/receipt.hpp"

#include <fmt/format.h>

#include "daemon/store/manifest.hpp"

namespace exhibit::store {

namespace {

Status read_items(Database& db, SessionReceipt& r) {
    return db.each(
        "SELECT category, count(*), coalesce(sum(state = 'incomplete'), 0), "
        "coalesce(sum(size), 0), "
        "(SELECT count(*) FROM uploads u JOIN items i ON i.id = u.item_id "
        " WHERE i.session_id = ?1 AND i.category = items.category AND u.state = 'received') "
        "FROM items WHERE session_id = ?1 GROUP BY category ORDER BY category",
        [&](Statement& q) { q.bind(1, r.session.id); },
        [&](const Statement& row) {
            auto& total = r.categories[row.column_text(0)];
            total.items = static_cast<std::uint64_t>(row.column_int(1));
            total.bytes = static_cast<std::uint64_t>(row.column_int(3));
            r.items += total.items;
            r.items_incomplete += static_cast<std::uint64_t>(row.column_int(2));
            r.bytes += total.bytes;
            r.items_received_by_dfu += static_cast<std::uint64_t>(row.column_int(4));
        });
}

Status read_manifest(Database& db, SessionReceipt& r) {
    auto m = db.prepare("SELECT sha256, state FROM manifests WHERE session_id = ?1");
    if (!m)
        return std::unexpected(m.error());
    m->bind(1, r.session.id);
    auto row = m->step();
    if (!row)
        return std::unexpected(row.error());
    if (*row) {
        r.manifest_sha256 = m->column_text(0);
        r.manifest_upload_state = m->column_text(1);
    }
    return {};
}

}  // namespace

std::string scope_summary(const nlohmann::json& scope) {
    if (!scope.is_object())
        return {};
    std::string out;
    for (const auto& c : scope.value("categories", nlohmann::json::array()))
        if (c.is_string())
            out += fmt::format("{}{}", out.empty() ? "" : ", ", c.get<std::string>());
    auto day = [](std::int64_t ms) { return format_utc_ms(from_unix_ms(ms)).substr(0, 10); };
    constexpr std::int64_t kDayMs = 24 * 3600 * 1000;
    const auto from = scope.find("from_ms"), until = scope.find("until_ms");
    const bool has_from = from != scope.end() && from->is_number_integer();
    const bool has_until = until != scope.end() && until->is_number_integer();
    if (has_from && has_until)
        out += fmt::format("; {} to {}", day(from->get<std::int64_t>()),
                           day(until->get<std::int64_t>() - kDayMs));
    else if (has_from)
        out += fmt::format("; from {}", day(from->get<std::int64_t>()));
    else if (has_until)
        out += fmt::format("; until {}", day(until->get<std::int64_t>() - kDayMs));
    std::string numbers;
    for (const auto& n : scope.value("numbers", nlohmann::json::array()))
        if (n.is_string())
            numbers += fmt::format("{}{}", numbers.empty() ? "" : ", ", n.get<std::string>());
    if (!numbers.empty())
        out += "; numbers " + numbers;
    return out;
}

Result<SessionReceipt> session_receipt(Store& store, std::int64_t session_id) {
    auto session = store.catalog().session(session_id);
    if (!session)
        return std::unexpected(session.error());
    SessionReceipt r;
    r.session = std::move(*session);
    auto& db = store.database();
    auto kase = store.catalog().case_of(r.session.case_id);
    if (!kase)
        return std::unexpected(kase.error());
    r.kase = std::move(*kase);
    r.scope_summary = scope_summary(r.kase.spec.scope);
    if (auto s = read_items(db, r); !s)
        return std::unexpected(s.error());
    if (auto s = read_manifest(db, r); !s)
        return std::unexpected(s.error());
    if (r.session.ended_at_ms && r.session.state != SessionState::created &&
        r.session.state != SessionState::running) {
        auto seal = extraction_seal(store, session_id);
        if (!seal)
            return std::unexpected(seal.error());
        r.seal_sha256 = std::move(*seal);
    }
    const bool manifest_received = r.manifest_upload_state == "received";
    if (r.manifest_upload_state.empty())
        r.manifest_upload_state = "not yet written";
    r.upload_state = r.items == 0                        ? "nothing to upload"
                     : r.items_received_by_dfu < r.items ? "pending"
                     : manifest_received ? "delivered: every item and the signed manifest received"
                                         : "items received, manifest pending";
    return r;
}

}  // namespace exhibit::store
