#include "verifier.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "common/base64.hpp"
#include "common/extraction_record.hpp"
#include "common/sha256.hpp"
#include "tools/exhibit-verify/audit_trail.hpp"
#include "tools/exhibit-verify/canonical_json.hpp"
#include "tools/exhibit-verify/item_check.hpp"
#include "tools/exhibit-verify/json_fields.hpp"

namespace exhibit::verify {

namespace {

constexpr std::string_view kFormat = "exhibit-manifest-v1";

// The key to check the signature with, and the "kiosk key" check.
std::optional<keys::PublicKey> resolve_key(const nlohmann::json& doc, const TrustedKey& trusted,
                                           Check& check) {
    check.name = "kiosk key";
    const auto& kiosk = json_member(doc, "kiosk");
    const auto named = json_string(kiosk, "key_fingerprint");
    auto embedded_raw = base64_decode(json_string(kiosk, "public_key_ed25519"));
    std::optional<keys::PublicKey> embedded;
    if (embedded_raw)
        if (auto k = keys::PublicKey::from_raw(*embedded_raw))
            embedded = std::move(*k);
    std::optional<keys::PublicKey> key;
    if (trusted.key)
        key = keys::PublicKey::from_raw(trusted.key->raw()).value();
    else if (embedded && embedded->fingerprint() == trusted.fingerprint)
        key = keys::PublicKey::from_raw(embedded->raw()).value();

    if (named != trusted.fingerprint)
        check.detail = fmt::format("the manifest names key {}, not the trusted {}",
                                   named.empty() ? "(none)" : named, trusted.fingerprint);
    else if (!embedded || embedded->fingerprint() != trusted.fingerprint)
        check.detail = "the manifest's public_key_ed25519 is not the trusted key";
    else {
        check.ok = true;
        check.detail = fmt::format("the manifest names the trusted key {}", trusted.fingerprint);
    }
    return key;
}

Check signature_check(const ManifestSource& m, const std::optional<keys::PublicKey>& key,
                      const TrustedKey& trusted) {
    Check c{.name = "signature"};
    if (!m.signature)
        c.detail = m.signature_problem;
    else if (!key)
        c.detail = fmt::format("no key with fingerprint {} to check it with", trusted.fingerprint);
    else if (!key->verify(m.body, *m.signature))
        c.detail = fmt::format(
            "does NOT verify with key {}: the manifest is altered or signed "
            "by another key",
            key->fingerprint());
    else {
        c.ok = true;
        c.detail = fmt::format("Ed25519 over the exact bytes, key {}", key->fingerprint());
    }
    return c;
}

// The seal on the kiosk's receipts is the SHA-256 of the session's extraction record, which
// is derived from this manifest; the manifest states it, under its signature.
Check seal_check(const nlohmann::json& doc, SessionReport& s) {
    const auto stated = json_string(doc, "extraction_sha256");
    if (stated.empty())
        return {"seal", false, "the manifest states no seal (extraction_sha256)"};
    auto record = canonical_json(extraction_record(doc));
    if (!record)
        return {"seal", false,
                fmt::format("the extraction record cannot be formed: {}", record.error().message)};
    const auto computed = to_hex(Sha256::of(*record));
    if (computed != stated)
        return {"seal", false,
                fmt::format("the manifest states seal {}, but its extraction record hashes to {}",
                            stated, computed)};
    s.seal_sha256 = computed;
    return {"seal", true,
            fmt::format("{} (the SHA-256 of the extraction record; printed on the kiosk's "
                        "receipts)",
                        computed)};
}

Check totals_check(const nlohmann::json& doc) {
    Check c{.name = "totals"};
    const auto& items = json_member(doc, "items");
    const auto& totals = json_member(doc, "totals");
    std::uint64_t bytes = 0;
    if (items.is_array())
        for (const auto& i : items)
            if (i.is_object() && i.contains("size") && i["size"].is_number_unsigned())
                bytes += i["size"].get<std::uint64_t>();
    const auto count = items.is_array() ? items.size() : 0;
    const auto& t_items = json_member(totals, "items");
    const auto& t_bytes = json_member(totals, "bytes");
    if (!items.is_array() || !t_items.is_number_unsigned() || !t_bytes.is_number_unsigned())
        c.detail = "the manifest lacks its items or totals";
    else if (t_items.get<std::uint64_t>() != count || t_bytes.get<std::uint64_t>() != bytes)
        c.detail =
            fmt::format("totals say {} items, {} bytes; the list has {} items, {} bytes",
                        t_items.get<std::uint64_t>(), t_bytes.get<std::uint64_t>(), count, bytes);
    else {
        c.ok = true;
        c.detail = fmt::format("{} items, {} bytes", count, bytes);
    }
    return c;
}

// tus: the manifest's own upload is complete and its metadata agrees with the body.
Check upload_check(const ManifestSource& m, const nlohmann::json& doc, const std::string& sha256,
                   const TrustedKey& trusted) {
    Check c{.name = "manifest upload"};
    const auto& u = *m.upload;
    const auto id = json_int(json_member(doc, "session"), "id");
    const std::string session = id ? std::to_string(*id) : "";
    if (!u.complete())
        c.detail = fmt::format("incomplete: {} of {} bytes received", u.data_size,
                               u.length ? std::to_string(*u.length) : "?");
    else if (u.meta("sha256") != sha256)
        c.detail =
            fmt::format("its metadata names sha256 {}, the body has {}", u.meta("sha256"), sha256);
    else if (u.meta("signature_algorithm") != "ed25519")
        c.detail = fmt::format("unknown signature_algorithm \"{}\"", u.meta("signature_algorithm"));
    else if (u.meta("key_fingerprint") != trusted.fingerprint)
        c.detail = fmt::format("its metadata names key {}", u.meta("key_fingerprint"));
    else if (u.meta("session_id") != session)
        c.detail = fmt::format("its metadata names session {}, the manifest {}",
                               u.meta("session_id"), session);
    else {
        c.ok = true;
        c.detail = fmt::format("complete ({} bytes), metadata agrees", u.data_size);
    }
    return c;
}

void describe_session(const nlohmann::json& doc, SessionReport& s) {
    const auto& session = json_member(doc, "session");
    s.session_id = json_int(session, "id");
    s.kiosk_id = json_string(json_member(doc, "kiosk"), "id");
    s.case_reference = json_string(json_member(doc, "case"), "case_reference");
    s.exhibit_reference = json_string(json_member(doc, "case"), "exhibit_reference");
    s.session_state = json_string(json_member(doc, "session"), "state");
    s.session_reason = json_string(json_member(doc, "session"), "state_reason");
    if (const auto& method = json_member(session, "method"); method.is_object())
        s.method = method;
}

void check_items(const Delivery& delivery, const nlohmann::json& doc, SessionReport& s,
                 HashCache& hashes) {
    const auto& items = json_member(doc, "items");
    if (!items.is_array())
        return;
    std::set<std::int64_t> listed;
    for (const auto& item : items) {
        s.items.push_back(check_item(delivery, doc, item, hashes));
        listed.insert(s.items.back().id);
    }
    s.warnings = delivery.strays(doc, listed);
}

SessionReport verify_manifest(const Delivery& delivery, const ManifestSource& m,
                              const TrustedKey& trusted, HashCache& hashes) {
    SessionReport s{.manifest = m.origin};
    if (!m.read_problem.empty()) {
        s.checks.push_back({"manifest", false, m.read_problem});
        return s;
    }
    s.manifest_sha256 = to_hex(Sha256::of(m.body));
    auto doc = nlohmann::json::parse(m.body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object())
        doc = nlohmann::json::object();  // the checks below then fail one by one
    describe_session(doc, s);
    Check key_check;
    auto key = resolve_key(doc, trusted, key_check);
    if (key)
        s.key_fingerprint = key->fingerprint();
    s.checks.push_back(signature_check(m, key, trusted));
    auto canonical = canonical_json(doc);
    const bool is_canonical = canonical && *canonical == m.body;
    s.checks.push_back({"canonical form", is_canonical,
                        is_canonical ? "one byte form, as signed" : "not canonical JSON"});
    const auto format = json_string(doc, "format");
    s.checks.push_back(
        {"format", format == kFormat,
         format == kFormat ? std::string(kFormat) : fmt::format("unknown format \"{}\"", format)});
    s.checks.push_back(std::move(key_check));
    s.checks.push_back(totals_check(doc));
    s.checks.push_back(seal_check(doc, s));
    auto trail = check_audit_trail(doc);
    s.checks.push_back(std::move(trail.chain));
    s.checks.push_back(std::move(trail.agreement));
    for (const auto& e : trail.entries)
        s.trail.push_back({{"seq", e.seq},
                           {"time", e.time},
                           {"actor", e.actor},
                           {"event", e.event},
                           {"details", e.details}});
    s.continuity = continuity_record(trail.entries);
    if (m.upload)
        s.checks.push_back(upload_check(m, doc, s.manifest_sha256, trusted));
    check_items(delivery, doc, s, hashes);
    return s;
}

}  // namespace

std::optional<std::string> normalise_fingerprint(std::string_view text) {
    if (text.starts_with("SHA256:") || text.starts_with("sha256:"))
        text.remove_prefix(7);
    if (text.size() != 64)
        return std::nullopt;
    std::string hex;
    for (char c : text) {
        const char lower = (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c;
        if (!((lower >= '0' && lower <= '9') || (lower >= 'a' && lower <= 'f')))
            return std::nullopt;
        hex += lower;
    }
    return "SHA256:" + hex;
}

Report verify_delivery(const Delivery& delivery, const TrustedKey& trusted) {
    Report report{.directory = delivery.dir().string(),
                  .layout = delivery.layout() == Layout::tus ? "tus" : "files",
                  .layout_description = delivery.describe(),
                  .notes = delivery.notes()};
    if (delivery.manifests().empty())
        report.problems.push_back(
            delivery.layout() == Layout::tus
                ? "no manifest: no upload has type \"manifest\" (exhibitd uploads it last, once "
                  "every item is received)"
                : "no manifest: no *.manifest.json or manifest.json in the folder");
    HashCache hashes;
    for (const auto& m : delivery.manifests())
        report.sessions.push_back(verify_manifest(delivery, m, trusted, hashes));
    return report;
}

}  // namespace exhibit::verify
