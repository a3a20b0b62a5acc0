#include "views.hpp"

#include <algorithm>
#include <span>

#include <fmt/format.h>

#include "tools/exhibitctl/format.hpp"

namespace exhibit::ctl {

namespace {

enum class Kind { text, u64, i64, real, flag, list };

struct Field {
    const char* property;
    const char* key;
    Kind kind;
};

constexpr Field kHealthFields[] = {
    {"Version", "version", Kind::text},
    {"KioskId", "kiosk_id", Kind::text},
    {"KeyFingerprint", "key_fingerprint", Kind::text},
    {"StoreState", "store_state", Kind::text},
    {"ItemsComplete", "items_complete", Kind::u64},
    {"ItemsIncomplete", "items_incomplete", Kind::u64},
    {"ItemsFlagged", "items_flagged", Kind::u64},
    {"FreeBytes", "free_bytes", Kind::u64},
    {"MinFreeBytes", "min_free_bytes", Kind::u64},
};

constexpr Field kQueueFields[] = {
    {"ItemsQueued", "items_queued", Kind::u64},
    {"ItemsUploading", "items_uploading", Kind::u64},
    {"ItemsReceived", "items_received", Kind::u64},
    {"ItemsFailed", "items_failed", Kind::u64},
    {"BytesPending", "bytes_pending", Kind::u64},
    {"OldestUnsentItem", "oldest_unsent_item", Kind::u64},
    {"OldestUnsentSince", "oldest_unsent_since_ms", Kind::i64},
    {"LastSuccessfulUpload", "last_successful_upload_ms", Kind::i64},
    {"CurrentError", "current_error", Kind::text},
    {"WindowOpen", "window_open", Kind::flag},
    {"SyncRequested", "sync_requested", Kind::flag},
    {"ActiveUploads", "active_uploads", Kind::u64},
    {"FailedUploads", "failed_uploads", Kind::list},
};

constexpr Field kDeviceFields[] = {
    {"Id", "id", Kind::text},
    {"Classes", "classes", Kind::list},
    {"State", "state", Kind::text},
    {"Detail", "detail", Kind::text},
    {"Transport", "transport", Kind::text},
    {"VendorId", "vendor_id", Kind::u64},
    {"ProductId", "product_id", Kind::u64},
    {"Manufacturer", "manufacturer", Kind::text},
    {"Product", "product", Kind::text},
    {"Serial", "serial", Kind::text},
    {"BusPath", "bus_path", Kind::text},
    {"Speed", "speed", Kind::text},
    {"Categories", "categories", Kind::list},
    {"CategoriesNote", "categories_note", Kind::text},
};

constexpr Field kSessionFields[] = {
    {"Id", "id", Kind::u64},
    {"Device", "device", Kind::text},
    {"State", "state", Kind::text},
    {"Reason", "reason", Kind::text},
    {"Progress", "progress", Kind::real},
    {"BytesDone", "bytes_done", Kind::u64},
    {"BytesTotal", "bytes_total", Kind::u64},
    {"Rate", "rate", Kind::real},
    {"ItemsDone", "items_done", Kind::u64},
    {"ItemsTotal", "items_total", Kind::u64},
    {"ItemsIncomplete", "items_incomplete", Kind::u64},
    {"ItemsSkipped", "items_skipped", Kind::u64},
    {"CurrentItem", "current_item", Kind::text},
};

// Every field is present (with its zero value when the daemon lacks the property), so
// scripts can rely on the keys.
nlohmann::json fields_json(const ValueMap& props, std::span<const Field> fields) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& f : fields) {
        switch (f.kind) {
            case Kind::text:
                out[f.key] = text_of(props, f.property);
                break;
            case Kind::u64:
                out[f.key] = u64_of(props, f.property);
                break;
            case Kind::i64:
                out[f.key] = i64_of(props, f.property);
                break;
            case Kind::real:
                out[f.key] = double_of(props, f.property);
                break;
            case Kind::flag:
                out[f.key] = bool_of(props, f.property);
                break;
            case Kind::list:
                out[f.key] = strings_of(props, f.property);
                break;
        }
    }
    return out;
}

std::string id_of(const std::string& path) {
    return path.substr(path.rfind('/') + 1);
}

std::string or_dash(const std::string& text) {
    return text.empty() ? "-" : printable(text);
}

std::string join(const std::vector<std::string>& list, std::string_view sep) {
    std::string out;
    for (const auto& s : list)
        out += (out.empty() ? "" : std::string(sep)) + printable(s);
    return out;
}

std::string items_text(const ValueMap& s) {
    auto text = fmt::format("{}/{}", u64_of(s, "ItemsDone"), u64_of(s, "ItemsTotal"));
    if (auto n = u64_of(s, "ItemsIncomplete"))
        text += fmt::format(", {} incomplete", n);
    if (auto n = u64_of(s, "ItemsSkipped"))
        text += fmt::format(", {} skipped", n);
    return text;
}

// The device identity of a receipt (a JSON text) in a few words.
std::string device_words(const std::string& json_text) {
    auto j = nlohmann::json::parse(json_text, nullptr, false);
    if (!j.is_object())
        return or_dash(json_text);
    std::vector<std::string> words;
    for (const char* key : {"manufacturer", "model", "product"})
        if (j.contains(key) && j[key].is_string() && !j[key].get<std::string>().empty())
            words.push_back(j[key].get<std::string>());
    if (j.contains("serial") && j["serial"].is_string())
        words.push_back("(serial " + j["serial"].get<std::string>() + ")");
    return words.empty() ? or_dash(json_text) : join(words, " ");
}

}  // namespace

void sort_devices(Objects& devices) {
    std::ranges::sort(devices, [](const auto& a, const auto& b) {
        const auto x = id_of(a.first), y = id_of(b.first);
        return x.size() != y.size() ? x.size() < y.size() : x < y;
    });
}

void sort_sessions(Objects& sessions) {
    std::ranges::sort(sessions, [](const auto& a, const auto& b) {
        const auto x = u64_of(a.second, "Id"), y = u64_of(b.second, "Id");
        return x != y ? x < y : a.first < b.first;
    });
}

nlohmann::json health_json(const ValueMap& health) {
    return fields_json(health, kHealthFields);
}

nlohmann::json queue_json(const ValueMap& queue) {
    return fields_json(queue, kQueueFields);
}

nlohmann::json device_json(const std::string& path, const ValueMap& device) {
    auto j = fields_json(device, kDeviceFields);
    j["path"] = path;
    return j;
}

nlohmann::json session_json(const std::string& path, const ValueMap& session) {
    auto j = fields_json(session, kSessionFields);
    j["path"] = path;
    return j;
}

nlohmann::json status_json(const ValueMap& health, const std::optional<ValueMap>& queue) {
    return {{"health", health_json(health)},
            {"queue", queue ? queue_json(*queue) : nlohmann::json(nullptr)}};
}

nlohmann::json devices_json(const Objects& devices) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [path, props] : devices)
        out.push_back(device_json(path, props));
    return out;
}

nlohmann::json sessions_json(const Objects& sessions) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [path, props] : sessions)
        out.push_back(session_json(path, props));
    return out;
}

nlohmann::json preview_json(const std::string& device_path, const std::vector<PreviewRow>& rows) {
    nlohmann::json categories = nlohmann::json::object();
    std::uint64_t count = 0, bytes = 0;
    for (const auto& r : rows) {
        categories[r.category] = {{"count", r.count}, {"bytes", r.bytes}};
        count += r.count;
        bytes += r.bytes;
    }
    return {{"device", device_path},
            {"categories", std::move(categories)},
            {"total", {{"count", count}, {"bytes", bytes}}}};
}

nlohmann::json receipt_json(const std::string& session_path, const ValueMap& receipt) {
    nlohmann::json j = {
        {"session", session_path},
        {"case_reference", text_of(receipt, "case_reference")},
        {"exhibit_reference", text_of(receipt, "exhibit_reference")},
        {"officer_id", text_of(receipt, "officer_id")},
        {"state", text_of(receipt, "state")},
        {"reason", text_of(receipt, "reason")},
        {"items", u64_of(receipt, "items")},
        {"items_incomplete", u64_of(receipt, "items_incomplete")},
        {"bytes", u64_of(receipt, "bytes")},
        {"seal_sha256", text_of(receipt, "seal_sha256")},
        {"manifest_sha256", text_of(receipt, "manifest_sha256")},
        {"upload_state", text_of(receipt, "upload_state")},
        {"started_ms", i64_of(receipt, "started")},
        {"ended_ms", i64_of(receipt, "ended")},
    };
    auto device = nlohmann::json::parse(text_of(receipt, "device"), nullptr, false);
    j["device"] = device.is_discarded() ? nlohmann::json(nullptr) : device;
    // Keys this exhibitctl does not know yet travel as they are.
    for (const auto& [key, value] : receipt)
        if (!j.contains(key) && key != "started" && key != "ended")
            j[key] = to_json(value);
    return j;
}

nlohmann::json audit_json(const AuditReport& report) {
    return {{"ok", report.ok},
            {"entries", report.entries},
            {"first_broken", report.first_broken},
            {"problem", report.problem}};
}

std::string dump_json(const nlohmann::json& doc) {
    return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string dump_json_line(const nlohmann::json& doc) {
    return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

namespace {

Pairs queue_pairs(const ValueMap& q) {
    std::string oldest = "none";
    if (auto item = u64_of(q, "OldestUnsentItem"))
        oldest = fmt::format("item {} since {}", item,
                             format_time_ms(i64_of(q, "OldestUnsentSince"), "?"));
    std::string window = bool_of(q, "WindowOpen") ? "open" : "closed";
    if (bool_of(q, "SyncRequested"))
        window += ", sync requested";
    Pairs p = {
        {"queue", fmt::format("{} queued, {} uploading ({} active), {} received, {} failed",
                              u64_of(q, "ItemsQueued"), u64_of(q, "ItemsUploading"),
                              u64_of(q, "ActiveUploads"), u64_of(q, "ItemsReceived"),
                              u64_of(q, "ItemsFailed"))},
        {"pending", format_bytes(u64_of(q, "BytesPending"))},
        {"oldest unsent", oldest},
        {"last upload", format_time_ms(i64_of(q, "LastSuccessfulUpload"))},
        {"sync window", window},
        {"error", or_dash(text_of(q, "CurrentError"))},
    };
    for (const auto& failed : strings_of(q, "FailedUploads"))  // the server's words: sanitised
        p.emplace_back("failed", printable(failed));
    return p;
}

}  // namespace

std::string render_status(const ValueMap& h, const std::optional<ValueMap>& queue) {
    Pairs p = {
        {"kiosk", or_dash(text_of(h, "KioskId"))},
        {"version", or_dash(text_of(h, "Version"))},
        {"key", or_dash(text_of(h, "KeyFingerprint"))},
        {"store", fmt::format("{} ({} complete, {} incomplete, {} flagged)",
                              or_dash(text_of(h, "StoreState")), u64_of(h, "ItemsComplete"),
                              u64_of(h, "ItemsIncomplete"), u64_of(h, "ItemsFlagged"))},
        {"disk free", fmt::format("{} (extractions need {})", format_bytes(u64_of(h, "FreeBytes")),
                                  format_bytes(u64_of(h, "MinFreeBytes")))},
    };
    if (queue) {
        auto q = queue_pairs(*queue);
        p.insert(p.end(), q.begin(), q.end());
    } else {
        p.emplace_back("queue", "not available from this exhibitd");
    }
    return render_pairs(p);
}

std::string render_queue(const ValueMap& q) {
    return render_pairs(queue_pairs(q));
}

std::string render_devices(const Objects& devices) {
    if (devices.empty())
        return "no devices\n";
    Table t({"ID", "STATE", "CLASSES", "TRANSPORT", "MANUFACTURER", "PRODUCT", "SERIAL", "DETAIL"});
    for (const auto& [path, d] : devices)
        t.add({or_dash(text_of(d, "Id")), or_dash(text_of(d, "State")),
               or_dash(join(strings_of(d, "Classes"), ",")), or_dash(text_of(d, "Transport")),
               or_dash(text_of(d, "Manufacturer")), or_dash(text_of(d, "Product")),
               or_dash(text_of(d, "Serial")), printable(text_of(d, "Detail"))});
    return t.render();
}

std::string render_sessions(const Objects& sessions) {
    if (sessions.empty())
        return "no sessions\n";
    Table t({"ID", "DEVICE", "STATE", "PROGRESS", "BYTES", "ITEMS", "REASON"});
    for (const auto& [path, s] : sessions)
        t.add({std::to_string(u64_of(s, "Id")), or_dash(text_of(s, "Device")),
               or_dash(text_of(s, "State")), format_percent(double_of(s, "Progress")),
               fmt::format("{}/{}", format_bytes(u64_of(s, "BytesDone")),
                           format_bytes(u64_of(s, "BytesTotal"))),
               items_text(s), printable(text_of(s, "Reason"))});
    return t.render();
}

std::string render_session(const std::string& path, const ValueMap& s) {
    Pairs p = {
        {"session", fmt::format("{} ({})", u64_of(s, "Id"), path)},
        {"device", or_dash(text_of(s, "Device"))},
        {"state", or_dash(text_of(s, "State"))},
        {"reason", or_dash(text_of(s, "Reason"))},
        {"progress", format_percent(double_of(s, "Progress"))},
        {"bytes", fmt::format("{} of {}", format_bytes(u64_of(s, "BytesDone")),
                              format_bytes(u64_of(s, "BytesTotal")))},
        {"rate", format_rate(double_of(s, "Rate"))},
        {"items", items_text(s)},
        {"current item", or_dash(text_of(s, "CurrentItem"))},
    };
    return render_pairs(p);
}

std::string render_preview(const std::vector<PreviewRow>& rows) {
    Table t({"CATEGORY", "ITEMS", "SIZE"});
    std::uint64_t count = 0, bytes = 0;
    for (const auto& r : rows) {
        t.add({printable(r.category), std::to_string(r.count), format_bytes(r.bytes)});
        count += r.count;
        bytes += r.bytes;
    }
    t.add({"total", std::to_string(count), format_bytes(bytes)});
    return t.render();
}

std::string render_receipt(const std::string& session_path, const ValueMap& r) {
    const auto manifest = text_of(r, "manifest_sha256");
    const auto seal = text_of(r, "seal_sha256");
    std::string items = std::to_string(u64_of(r, "items"));
    if (auto n = u64_of(r, "items_incomplete"))
        items += fmt::format(" ({} incomplete)", n);
    Pairs p = {
        {"session", session_path},
        {"case", or_dash(text_of(r, "case_reference"))},
        {"exhibit", or_dash(text_of(r, "exhibit_reference"))},
        {"officer", or_dash(text_of(r, "officer_id"))},
        {"state", or_dash(text_of(r, "state"))},
        {"reason", or_dash(text_of(r, "reason"))},
        {"started", format_time_ms(i64_of(r, "started"), "-")},
        {"ended", format_time_ms(i64_of(r, "ended"), "-")},
        {"device", device_words(text_of(r, "device"))},
        {"items", items},
        {"bytes",
         fmt::format("{} ({} bytes)", format_bytes(u64_of(r, "bytes")), u64_of(r, "bytes"))},
        {"upload", or_dash(text_of(r, "upload_state"))},
        {"seal", seal.empty() ? "when the session ends" : printable(seal)},
        {"manifest sha256", manifest.empty() ? "not made yet" : printable(manifest)},
    };
    return render_pairs(p);
}

std::string render_audit(const AuditReport& report) {
    if (report.ok)
        return fmt::format("audit chain intact: {} entries verified\n", report.entries);
    return fmt::format("audit chain BROKEN at entry {} of {}: {}\n", report.first_broken,
                       report.entries, printable(report.problem));
}

}  // namespace exhibit::ctl
