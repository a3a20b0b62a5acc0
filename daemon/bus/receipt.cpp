#include "receipt.hpp"

#include <fmt/format.h>

namespace exhibit::bus {

Result<ValueMap> session_receipt(store::Store& store, std::int64_t session_id) {
    auto session = store.catalog().session(session_id);
    if (!session)
        return std::unexpected(session.error());
    ValueMap r;
    auto c = store.database().prepare(
        "SELECT case_reference, exhibit_reference, officer_id, basis FROM cases WHERE id = ?1");
    if (!c)
        return std::unexpected(c.error());
    c->bind(1, session->case_id);
    if (auto row = c->step(); !row || !*row)
        return fail(Errc::not_found, fmt::format("session {} has no case", session_id));
    r["case_reference"] = c->column_text(0);
    r["exhibit_reference"] = c->column_text(1);
    r["officer_id"] = c->column_text(2);
    r["basis"] = c->column_text(3);
    r["state"] = std::string(store::to_string(session->state));
    r["reason"] = session->state_reason.value_or("");
    r["started"] = session->started_at_ms;
    r["ended"] = session->ended_at_ms.value_or(0);
    r["device"] = session->device.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);

    auto items = store.database().prepare(
        "SELECT count(*), coalesce(sum(state = 'incomplete'), 0), coalesce(sum(size), 0), "
        "(SELECT count(*) FROM uploads u JOIN items i ON i.id = u.item_id WHERE i.session_id = ?1 "
        "AND u.state = 'received') "
        "FROM items WHERE session_id = ?1");
    if (!items)
        return std::unexpected(items.error());
    items->bind(1, session_id);
    if (auto row = items->step(); !row || !*row)
        return std::unexpected(row ? Error{Errc::internal, "no row", 0} : row.error());
    const auto total = static_cast<std::uint64_t>(items->column_int(0));
    const auto received = static_cast<std::uint64_t>(items->column_int(3));
    r["items"] = total;
    r["items_incomplete"] = static_cast<std::uint64_t>(items->column_int(1));
    r["bytes"] = static_cast<std::uint64_t>(items->column_int(2));
    r["items_received_by_dfu"] = received;
    std::string manifest_sha, manifest_state;
    auto m = store.database().prepare("SELECT sha256, state FROM manifests WHERE session_id = ?1");
    if (!m)
        return std::unexpected(m.error());
    m->bind(1, session_id);
    if (auto row = m->step(); row && *row) {
        manifest_sha = m->column_text(0);
        manifest_state = m->column_text(1);
    }
    r["manifest_sha256"] = manifest_sha;
    r["manifest_upload_state"] =
        manifest_state.empty() ? std::string("not yet written") : manifest_state;
    const char* state = total == 0         ? "nothing to upload"
                        : received < total ? "pending"
                        : manifest_state == "received"
                            ? "delivered: every item and the signed manifest received"
                            : "items received, manifest pending";
    r["upload_state"] = std::string(state);
    return r;
}

}  // namespace exhibit::bus
