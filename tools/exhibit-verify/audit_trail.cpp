#include "audit_trail.hpp"

#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "common/audit_chain.hpp"
#include "json_fields.hpp"

namespace exhibit::verify {

namespace {

// What is wrong when the element starting at `seq` comes where entry `next` was due: `next`
// may come later in the trail (out of order) or nowhere (missing).
std::string misplaced(const nlohmann::json& trail, std::size_t at, std::int64_t next,
                      std::int64_t seq) {
    if (seq < next)
        return fmt::format("entry {} is out of order (entry {} was due)", seq, next);
    for (std::size_t i = at + 1; i < trail.size(); ++i) {
        auto start = json_int(trail[i], "seq");
        if (!start)
            start = json_int(trail[i], "elided_from");
        if (start == next)
            return fmt::format("entry {} is out of order (it comes after entry {})", next, seq);
    }
    return seq == next + 1 ? fmt::format("entry {} is missing", next)
                           : fmt::format("entries {} to {} are missing", next, seq - 1);
}

// Walks the trail by the chain's rules. Returns what is wrong, or "" and fills `entries`.
std::string walk(const nlohmann::json& trail, const nlohmann::json& head,
                 std::vector<TrailEntry>& entries, std::int64_t& first, std::int64_t& last) {
    if (!trail.is_array() || trail.empty())
        return "the manifest carries no audit trail";
    std::optional<std::int64_t> next;
    std::string prev;
    for (std::size_t at = 0; at < trail.size(); ++at) {
        const auto& el = trail[at];
        if (!el.is_object())
            return "an element of the trail is not an object";
        if (auto from = json_int(el, "elided_from")) {
            auto to = json_int(el, "elided_to");
            auto hash = json_string(el, "hash");
            if (!to || *to < *from || !is_sha256_hex(hash))
                return fmt::format("the run of other entries from {} is malformed", *from);
            if (next && *from != *next)
                return misplaced(trail, at, *next, *from);
            next = *to + 1;
            prev = hash;
            continue;
        }
        auto seq = json_int(el, "seq");
        AuditEntry e{.seq = seq.value_or(0),
                     .time = json_string(el, "time"),
                     .actor = json_string(el, "actor"),
                     .event = json_string(el, "event"),
                     .details = json_string(el, "details"),
                     .prev_hash = json_string(el, "prev_hash"),
                     .hash = json_string(el, "hash")};
        if (!seq || e.time.empty() || e.actor.empty() || e.event.empty() || !is_sha256_hex(e.hash) ||
            !is_sha256_hex(e.prev_hash))
            return fmt::format("an entry after {} lacks a field", next ? *next - 1 : 0);
        if (next && *seq != *next)
            return misplaced(trail, at, *next, *seq);
        if (!prev.empty() && e.prev_hash != prev)
            return fmt::format("entry {} does not link to the entry before it", *seq);
        if (audit_entry_hash(e) != e.hash)
            return fmt::format("entry {} ({}) was altered: its content does not match its hash",
                               *seq, e.event);
        auto details = nlohmann::json::parse(e.details, nullptr, false);
        if (!details.is_object())
            return fmt::format("entry {}'s details are not a JSON object", *seq);
        if (!next)
            first = *seq;
        entries.push_back({*seq, e.time, e.actor, e.event, std::move(details)});
        next = *seq + 1;
        prev = e.hash;
    }
    last = *next - 1;
    const auto head_seq = json_int(head, "seq");
    if (!head_seq || *head_seq != last)
        return fmt::format("the trail ends at entry {}, the manifest's audit head is {}", last,
                           head_seq ? std::to_string(*head_seq) : "missing");
    if (json_string(head, "hash") != prev)
        return fmt::format("the trail's last hash is not the audit head's (entry {})", last);
    if (entries.empty())
        return "the trail holds no entry of the session";
    return {};
}

const TrailEntry* find(const std::vector<TrailEntry>& entries, std::string_view event,
                       const char* key, std::int64_t id) {
    for (const auto& e : entries)
        if (e.event == event && json_int(e.details, key) == id)
            return &e;
    return nullptr;
}

// Where the trail and the manifest disagree, in words; "" when they agree.
std::string compare(const std::vector<TrailEntry>& entries, const nlohmann::json& doc) {
    const auto& kase = json_member(doc, "case");
    const auto& session = json_member(doc, "session");
    const auto case_id = json_int(kase, "id");
    const auto session_id = json_int(session, "id");
    if (!case_id || !session_id)
        return "the manifest names no case or session id";
    const auto* created = find(entries, "case.created", "case_id", *case_id);
    if (!created)
        return fmt::format("the trail does not record the creation of case {}", *case_id);
    for (const char* field : {"case_reference", "exhibit_reference", "officer_id"})
        if (json_string(created->details, field) != json_string(kase, field))
            return fmt::format("entry {} records {} \"{}\", the manifest \"{}\"", created->seq,
                               field, json_string(created->details, field),
                               json_string(kase, field));
    const auto* opened = find(entries, "session.created", "session_id", *session_id);
    if (!opened)
        return fmt::format("the trail does not record the creation of session {}", *session_id);
    if (json_member(opened->details, "method") != json_member(session, "method"))
        return fmt::format("entry {} records another method than the manifest", opened->seq);

    std::map<std::int64_t, const TrailEntry*> stored;
    std::set<std::int64_t> received;
    std::optional<std::string> ended;
    for (const auto& e : entries) {
        if (e.event == "store.item_added" && json_int(e.details, "session_id") == session_id)
            if (auto id = json_int(e.details, "item_id"))
                stored[*id] = &e;
        if (e.event == "upload.received")
            if (auto id = json_int(e.details, "item_id"))
                received.insert(*id);
        if (json_int(e.details, "session_id") == session_id &&
            (e.event == "session.completed" || e.event == "session.interrupted" ||
             e.event == "session.failed" || e.event == "session.cancelled"))
            ended = e.event.substr(8);
    }
    std::set<std::int64_t> listed;
    const auto& items = json_member(doc, "items");
    for (const auto& item : items.is_array() ? items : nlohmann::json::array()) {
        auto id = json_int(item, "id");
        if (!id)
            return "an item of the manifest has no id";
        listed.insert(*id);
        auto it = stored.find(*id);
        if (it == stored.end())
            return fmt::format("item {}: the trail does not record it stored", *id);
        const auto& d = it->second->details;
        if (json_string(d, "sha256") != json_string(item, "sha256"))
            return fmt::format("item {}: entry {} records sha256 {}, the manifest {}", *id,
                               it->second->seq, json_string(d, "sha256"),
                               json_string(item, "sha256"));
        if (json_int(d, "size") != json_int(item, "size") ||
            json_string(d, "state") != json_string(item, "state"))
            return fmt::format("item {}: entry {} records another size or state", *id,
                               it->second->seq);
        if (json_string(json_member(item, "delivery"), "state") == "received" &&
            !received.contains(*id))
            return fmt::format("item {}: received as the manifest says, not in the trail", *id);
    }
    for (const auto& [id, e] : stored)
        if (!listed.contains(id))
            return fmt::format("entry {} records item {} stored, which the manifest leaves out",
                               e->seq, id);
    const auto state = json_string(session, "state");
    if (!ended)
        return fmt::format("the trail does not record how session {} ended", *session_id);
    if (*ended != state)
        return fmt::format("the trail records the session {}, the manifest {}", *ended, state);
    return {};
}

std::string summary(const TrailEntry& e) {
    const auto& d = e.details;
    if (e.event == "case.created") {
        const auto& basis = json_member(d, "basis_detail");
        std::string detail;
        if (auto notice = json_string(basis, "notice"); !notice.empty())
            detail = "notice " + notice;
        else if (auto version = json_string(basis, "notice_version"); !version.empty())
            detail = "notice " + version;
        if (auto who = json_string(basis, "agreed_by"); !who.empty())
            detail += (detail.empty() ? "" : ", ") + fmt::format("agreed by {}", who);
        return fmt::format("case {}, exhibit {} recorded by {}: {}{}",
                           json_string(d, "case_reference"), json_string(d, "exhibit_reference"),
                           json_string(d, "officer_id"), json_string(d, "basis"),
                           detail.empty() ? "" : " (" + detail + ")");
    }
    const auto session = json_int(d, "session_id").value_or(0);
    auto device = [&] {
        const auto& dev = json_member(d, "device");
        auto model = json_string(dev, "model");
        if (model.empty())
            model = json_string(dev, "product");
        auto serial = json_string(dev, "serial");
        auto who = json_string(dev, "manufacturer");
        if (!model.empty())
            who += (who.empty() ? "" : " ") + model;
        if (!serial.empty())
            who += (who.empty() ? "" : " ") + fmt::format("(serial {})", serial);
        return who;
    };
    if (e.event == "session.created") {
        auto who = device();
        return who.empty() ? fmt::format("session {} opened", session)
                           : fmt::format("session {} opened for {}", session, who);
    }
    if (e.event == "session.device_identified") {
        auto who = device();
        return fmt::format("session {}: the phone says it is {}", session,
                           who.empty() ? "nothing" : who);
    }
    if (e.event.starts_with("session.") && json_member(d, "state").is_string()) {
        auto reason = json_string(d, "reason");
        return fmt::format("session {} {}{}", session, json_string(d, "state"),
                           reason.empty() ? "" : ": " + reason);
    }
    if (e.event == "store.item_added")
        return fmt::format("item {} stored: {} ({} bytes, {}, sha256 {})",
                           json_int(d, "item_id").value_or(0), json_string(d, "source_path"),
                           json_int(d, "size").value_or(0), json_string(d, "state"),
                           json_string(d, "sha256").substr(0, 16));
    const auto item = json_int(d, "item_id").value_or(0);
    if (e.event == "upload.queued")
        return fmt::format("item {} queued for the DFU ({} lane)", item, json_string(d, "lane"));
    if (e.event == "upload.created")
        return fmt::format("item {}: upload created at {}", item, json_string(d, "url"));
    if (e.event == "upload.received")
        return fmt::format("item {} received by the DFU", item);
    return fmt::format("{} {}", e.event, d.dump());
}

}  // namespace

TrailCheck check_audit_trail(const nlohmann::json& manifest) {
    TrailCheck out;
    std::int64_t first = 0, last = 0;
    std::vector<TrailEntry> entries;
    auto problem = walk(json_member(manifest, "audit_trail"), json_member(manifest, "audit_head"),
                        entries, first, last);
    if (!problem.empty()) {
        out.chain.detail = problem;
        out.agreement.detail = "not compared: the trail does not hold";
        return out;
    }
    out.chain.ok = true;
    out.chain.detail = fmt::format("{} entries of the session, unbroken from entry {} to the "
                                   "audit head {}",
                                   entries.size(), first, last);
    problem = compare(entries, manifest);
    out.agreement.ok = problem.empty();
    out.agreement.detail = problem.empty()
                               ? "the case, the session, every item stored and delivered, and "
                                 "how it ended"
                               : problem;
    out.entries = std::move(entries);
    return out;
}

std::vector<std::string> continuity_record(const std::vector<TrailEntry>& entries) {
    // What happens to every item alike (stored, queued, upload created, received) is told
    // once, at its first entry, with how many more followed and until when; everything
    // else (the case, the session, skips, failures, retries) entry by entry.
    static const std::set<std::string> kPerItem = {"store.item_added", "upload.queued",
                                                   "upload.created", "upload.received"};
    std::map<std::string, std::pair<std::size_t, std::string>> rest;  // event -> more, last
    std::map<std::string, std::size_t> first_of;
    for (std::size_t i = 0; i < entries.size(); ++i)
        if (kPerItem.contains(entries[i].event)) {
            if (first_of.emplace(entries[i].event, i).second)
                continue;
            auto& [more, last] = rest[entries[i].event];
            ++more;
            last = entries[i].time;
        }
    std::vector<std::string> lines;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const auto& e = entries[i];
        const bool per_item = kPerItem.contains(e.event);
        if (per_item && first_of[e.event] != i)
            continue;
        lines.push_back(fmt::format("{}  {}  {}", e.time, e.actor, summary(e)));
        if (auto more = rest.find(e.event); per_item && more != rest.end())
            lines.push_back(fmt::format("  …and {} more {} until {}", more->second.first, e.event,
                                        more->second.second));
    }
    return lines;
}

}  // namespace exhibit::verify
