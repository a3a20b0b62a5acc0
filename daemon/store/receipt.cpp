#include "daemon/store/receipt.hpp"

#include <fmt/format.h>

namespace exhibit::store {

namespace {

Status read_case(Database& db, std::int64_t case_id, SessionReceipt& r) {
    auto c = db.prepare(
        "SELECT case_reference, exhibit_reference, officer_id, basis, basis_detail, scope "
        "FROM cases WHERE id = ?1");
    if (!c)
        return std::unexpected(c.error());
    c->bind(1, case_id);
    auto row = c->step();
    if (!row)
        return std::unexpected(row.error());
    if (!*row)
        return fail(Errc::not_found, fmt::format("session {} has no case", r.session.id));
    r.case_reference = c->column_text(0);
    r.exhibit_reference = c->column_text(1);
    r.officer_id = c->column_text(2);
    r.basis = c->column_text(3) == "other" ? LawfulBasis::other : LawfulBasis::consent;
    r.basis_detail = nlohmann::json::parse(c->column_text(4), nullptr, false);
    r.scope = nlohmann::json::parse(c->column_text(5), nullptr, false);
    return {};
}

Status read_items(Database& db, SessionReceipt& r) {
    auto items = db.prepare(
        "SELECT category, count(*), coalesce(sum(state = 'incomplete'), 0), "
        "coalesce(sum(size), 0), "
        "(SELECT count(*) FROM uploads u JOIN items i ON i.id = u.item_id "
        " WHERE i.session_id = ?1 AND i.category = items.category AND u.state = 'received') "
        "FROM items WHERE session_id = ?1 GROUP BY category ORDER BY category");
    if (!items)
        return std::unexpected(items.error());
    items->bind(1, r.session.id);
    for (;;) {
        auto row = items->step();
        if (!row)
            return std::unexpected(row.error());
        if (!*row)
            return {};
        auto& total = r.categories[items->column_text(0)];
        total.items = static_cast<std::uint64_t>(items->column_int(1));
        total.bytes = static_cast<std::uint64_t>(items->column_int(3));
        r.items += total.items;
        r.items_incomplete += static_cast<std::uint64_t>(items->column_int(2));
        r.bytes += total.bytes;
        r.items_received_by_dfu += static_cast<std::uint64_t>(items->column_int(4));
    }
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

Result<SessionReceipt> session_receipt(Store& store, std::int64_t session_id) {
    auto session = store.catalog().session(session_id);
    if (!session)
        return std::unexpected(session.error());
    SessionReceipt r;
    r.session = std::move(*session);
    auto& db = store.database();
    if (auto s = read_case(db, r.session.case_id, r); !s)
        return std::unexpected(s.error());
    if (auto s = read_items(db, r); !s)
        return std::unexpected(s.error());
    if (auto s = read_manifest(db, r); !s)
        return std::unexpected(s.error());
    const bool manifest_received = r.manifest_upload_state == "received";
    if (r.manifest_upload_state.empty())
        r.manifest_upload_state = "not yet written";
    r.upload_state = r.items == 0                       ? "nothing to upload"
                     : r.items_received_by_dfu < r.items ? "pending"
                     : manifest_received ? "delivered: every item and the signed manifest received"
                                         : "items received, manifest pending";
    return r;
}

}  // namespace exhibit::store
