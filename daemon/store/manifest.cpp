#include "manifest.hpp"

#include <openssl/evp.h>

#include <optional>
#include <set>

#include <fmt/format.h>

#include "common/base64.hpp"
#include "common/extraction_record.hpp"
#include "common/sha256.hpp"
#include "daemon/store/store.hpp"

namespace exhibit::store {

namespace {

template <class T>
std::unexpected<Error> err(const Result<T>& r) {
    return std::unexpected(r.error());
}

Result<std::vector<std::byte>> unbase64(std::string_view text) {
    auto raw = base64_decode(text);
    if (!raw || raw->empty())
        return fail(Errc::corrupt, "the signature is not base64");
    return raw;
}

bool has_float(const nlohmann::json& v) {
    if (v.is_number_float())
        return true;
    if (v.is_structured())
        for (const auto& child : v)
            if (has_float(child))
                return true;
    return false;
}

std::string utc(std::optional<std::int64_t> ms) {
    return ms ? format_utc_ms(from_unix_ms(*ms)) : std::string();
}

nlohmann::json case_json(const CaseRecord& c) {
    const auto& spec = c.spec;
    nlohmann::json j = {
        {"id", c.id},
        {"case_reference", spec.case_reference},
        {"exhibit_reference", spec.exhibit_reference},
        {"officer_id", spec.officer_id},
        {"lawful_basis", to_string(spec.basis)},
        {"lawful_basis_detail", spec.basis_detail},
        {"scope", spec.scope},
        {"created_at", utc(c.created_at_ms)},
    };
    if (spec.owner)
        j["owner"] = to_string(*spec.owner);
    return j;
}

Result<nlohmann::json> raw_paths(Database& db, std::int64_t session_id) {
    nlohmann::json out = nlohmann::json::object();
    if (auto s = db.each(
            "SELECT id, lower(hex(source_path_raw)) FROM items WHERE session_id = ?1 "
            "AND source_path_raw IS NOT NULL",
            [&](Statement& q) { q.bind(1, session_id); },
            [&](const Statement& row) {
                out[std::to_string(row.column_int(0))] = row.column_text(1);
            });
        !s)
        return std::unexpected(s.error());
    return out;
}

Result<nlohmann::json> audit_head(Database& db) {
    auto stmt = db.prepare("SELECT seq, hash FROM audit_head WHERE id = 1");
    if (!stmt)
        return err(stmt);
    auto row = stmt->step();
    if (!row)
        return err(row);
    if (!*row)
        return nlohmann::json(nullptr);
    return nlohmann::json{{"seq", stmt->column_int(0)}, {"hash", stmt->column_text(1)}};
}

// Whether an audit entry's details concern the session: its case's creation, anything
// naming the session, and anything naming one of its items (stored, queued, delivered).
bool concerns(const nlohmann::json& details, std::int64_t case_id, std::int64_t session_id,
              const std::set<std::int64_t>& items) {
    auto id = [&](const char* key) -> std::optional<std::int64_t> {
        auto it = details.find(key);
        return it != details.end() && it->is_number_integer()
                   ? std::optional(it->get<std::int64_t>())
                   : std::nullopt;
    };
    if (auto s = id("session_id"))
        return *s == session_id;
    if (auto s = id("manifest_of_session"))
        return *s == session_id;
    if (auto i = id("item_id"))
        return items.contains(*i);
    return id("case_id") == case_id;
}

// The session's audit trail (docs/manifest.md, "audit_trail"): the kiosk's chain from its
// case's creation to `head_seq`, every entry that concerns the session whole, each run of
// the others (other sessions, the kiosk's own business) as its first and last sequence
// number and the last one's hash, which is what the next entry's prev_hash links to.
Result<nlohmann::json> audit_trail(Database& db, std::int64_t case_id, std::int64_t session_id,
                                   const std::vector<ItemRecord>& items, std::int64_t head_seq) {
    std::set<std::int64_t> item_ids;
    for (const auto& i : items)
        item_ids.insert(i.id);
    std::optional<std::int64_t> first;
    if (auto s = db.each(
            "SELECT min(seq) FROM audit WHERE event = 'case.created' "
            "AND json_extract(details, '$.case_id') = ?1",
            [&](Statement& q) { q.bind(1, case_id); },
            [&](const Statement& row) { first = row.column_optional_int(0); });
        !s)
        return std::unexpected(s.error());
    if (!first)
        return fail(Errc::corrupt,
                    fmt::format("the audit log has no entry for the creation of case {}", case_id));
    nlohmann::json trail = nlohmann::json::array();
    nlohmann::json run;  // the run of other entries being gathered
    auto close_run = [&] {
        if (!run.is_null())
            trail.push_back(std::move(run));
        run = nullptr;
    };
    if (auto s = db.each(
            "SELECT seq, time, actor, event, details, prev_hash, hash FROM audit "
            "WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq",
            [&](Statement& q) { q.bind(1, *first).bind(2, head_seq); },
            [&](const Statement& row) {
                const auto seq = row.column_int(0);
                const auto details = row.column_text(4);
                auto parsed = nlohmann::json::parse(details, nullptr, false);
                if (parsed.is_object() && concerns(parsed, case_id, session_id, item_ids)) {
                    close_run();
                    trail.push_back({{"seq", seq},
                                     {"time", row.column_text(1)},
                                     {"actor", row.column_text(2)},
                                     {"event", row.column_text(3)},
                                     {"details", details},
                                     {"prev_hash", row.column_text(5)},
                                     {"hash", row.column_text(6)}});
                } else if (run.is_null()) {
                    run = {{"elided_from", seq}, {"elided_to", seq}, {"hash", row.column_text(6)}};
                } else {
                    run["elided_to"] = seq;
                    run["hash"] = row.column_text(6);
                }
            });
        !s)
        return std::unexpected(s.error());
    close_run();
    return trail;
}

nlohmann::json item_json(const ItemRecord& item, const nlohmann::json& raw,
                         const nlohmann::json& deliveries) {
    const auto id = std::to_string(item.id);
    nlohmann::json j = {{"id", item.id},
                        {"category", item.category},
                        {"source_path", item.source_path},
                        {"size", item.size},
                        {"sha256", item.sha256},
                        {"state", to_string(item.state)},
                        {"integrity", to_string(item.integrity)},
                        {"stored_at", utc(item.created_at_ms)}};
    if (raw.contains(id))
        j["source_path_raw_hex"] = raw[id];
    if (item.declared_size)
        j["declared_size"] = *item.declared_size;
    if (item.source_mtime_ms)
        j["source_mtime"] = utc(item.source_mtime_ms);
    if (item.incomplete_reason)
        j["incomplete_reason"] = *item.incomplete_reason;
    j["delivery"] = deliveries.contains(id) ? deliveries[id] : nlohmann::json{{"state", "none"}};
    return j;
}

}  // namespace

Result<std::string> canonical_json(const nlohmann::json& value) {
    if (has_float(value))
        return fail(Errc::invalid_argument, "canonical JSON allows integers only");
    try {
        return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
    } catch (const nlohmann::json::exception& e) {
        return fail(Errc::invalid_argument, fmt::format("not canonical JSON: {}", e.what()));
    }
}

namespace {

// The manifest of an ended session, unsigned and without its "extraction_sha256"; without
// its audit trail when only the seal is wanted (the record leaves the trail out).
Result<nlohmann::json> manifest_document(Store& store, std::int64_t session_id,
                                         const nlohmann::json& deliveries, const Clock& clock,
                                         bool with_trail) {
    auto session = store.catalog().session(session_id);
    if (!session)
        return err(session);
    if (!session->ended_at_ms || session->state == SessionState::created ||
        session->state == SessionState::running)
        return fail(
            Errc::invalid_argument,
            fmt::format("session {} has not ended; its manifest would be incomplete", session_id));
    auto kase = store.catalog().case_of(session->case_id);
    if (!kase)
        return err(kase);
    auto items = store.catalog().items_of_session(session_id);
    if (!items)
        return err(items);
    auto raw = raw_paths(store.database(), session_id);
    if (!raw)
        return err(raw);
    auto head = audit_head(store.database());
    if (!head)
        return err(head);

    nlohmann::json list = nlohmann::json::array();
    std::int64_t total = 0;
    for (const auto& item : *items) {
        list.push_back(item_json(item, *raw, deliveries));
        total += item.size;
    }
    const auto& key = store.identity().public_key();
    const auto raw_key = key.raw();
    nlohmann::json session_json = {{"id", session->id},
                                   {"state", to_string(session->state)},
                                   {"priority", to_string(session->priority)},
                                   {"started_at", utc(session->started_at_ms)},
                                   {"ended_at", utc(session->ended_at_ms)},
                                   {"device", session->device}};
    if (session->state_reason)
        session_json["state_reason"] = *session->state_reason;
    if (session->device_serial)
        session_json["device_serial"] = *session->device_serial;
    if (session->clock_offset_ms)
        session_json["phone_clock_offset_ms"] = *session->clock_offset_ms;
    if (session->method.is_object())
        session_json["method"] = session->method;

    nlohmann::json doc = {
        {"format", kManifestFormat},
        {"kiosk",
         {{"id", store.options().kiosk_id},
          {"key_fingerprint", key.fingerprint()},
          {"public_key_ed25519", base64_encode(std::span<const std::byte>(raw_key))}}},
        {"case", case_json(*kase)},
        {"session", std::move(session_json)},
        {"items", std::move(list)},
        {"totals", {{"items", items->size()}, {"bytes", total}}},
        {"created_at", format_utc_ms(clock.now())},
    };
    if (with_trail && head->is_object()) {
        auto trail = audit_trail(store.database(), session->case_id, session_id, *items,
                                 (*head)["seq"].get<std::int64_t>());
        if (!trail)
            return err(trail);
        doc["audit_trail"] = std::move(*trail);
    }
    doc["audit_head"] = std::move(*head);
    return doc;
}

Result<std::string> seal_of(const nlohmann::json& manifest) {
    auto record = canonical_json(extraction_record(manifest));
    if (!record)
        return err(record);
    return to_hex(Sha256::of(*record));
}

}  // namespace

Result<std::string> extraction_seal(Store& store, std::int64_t session_id) {
    auto doc = manifest_document(store, session_id, nlohmann::json::object(), Clock::system(),
                                 false);
    if (!doc)
        return err(doc);
    return seal_of(*doc);
}

Result<SignedManifest> build_manifest(Store& store, std::int64_t session_id,
                                      const nlohmann::json& deliveries, const Clock& clock) {
    auto doc = manifest_document(store, session_id, deliveries, clock, true);
    if (!doc)
        return err(doc);
    auto seal = seal_of(*doc);
    if (!seal)
        return err(seal);
    (*doc)["extraction_sha256"] = *seal;
    const auto& key = store.identity().public_key();
    auto body = canonical_json(*doc);
    if (!body)
        return err(body);
    auto signature = store.identity().sign(*body);
    if (!signature)
        return err(signature);
    return SignedManifest{.body = *body,
                          .sha256 = to_hex(Sha256::of(*body)),
                          .signature = base64_encode(std::span<const std::byte>(*signature)),
                          .key_fingerprint = key.fingerprint()};
}

Status verify_manifest(std::string_view body, std::string_view signature_base64,
                       const keys::PublicKey& key) {
    auto signature = unbase64(signature_base64);
    if (!signature)
        return std::unexpected(signature.error());
    if (signature->size() != keys::kSignatureSize)
        return fail(Errc::corrupt, "the manifest signature is not 64 bytes");
    if (auto s = key.verify(body, *signature); !s)
        return fail(Errc::corrupt, "the manifest signature does not verify with this kiosk key");
    auto doc = nlohmann::json::parse(body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object())
        return fail(Errc::corrupt, "the manifest is not a JSON object");
    auto again = canonical_json(doc);
    if (!again || *again != body)
        return fail(Errc::corrupt, "the manifest is not in canonical form");
    if (doc.value("format", "") != kManifestFormat)
        return fail(Errc::unsupported, "unknown manifest format");
    if (!doc["kiosk"].is_object() || doc["kiosk"].value("key_fingerprint", "") != key.fingerprint())
        return fail(Errc::corrupt, "the manifest names another kiosk key");
    return {};
}

}  // namespace exhibit::store
