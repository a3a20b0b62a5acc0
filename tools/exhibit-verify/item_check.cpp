#include "item_check.hpp"
#include "tools/exhibit-verify/json_fields.hpp"

#include <fmt/format.h>

namespace exhibit::verify {

namespace fs = std::filesystem;

namespace {

struct Verdict {
    ItemStatus status;
    std::string detail;
};

const nlohmann::json* entry_of(const nlohmann::json& doc, std::int64_t id) {
    if (!doc.contains("items") || !doc["items"].is_array())
        return nullptr;
    for (const auto& i : doc["items"])
        if (const auto& own = json_member(i, "id");
            own.is_number_integer() && own.get<std::int64_t>() == id)
            return &i;
    return nullptr;
}

Verdict evaluate(const Candidate& c, const ItemResult& expected, HashCache& hashes) {
    if (c.upload && !c.upload->complete()) {
        if (!c.upload->length)
            return {
                ItemStatus::incomplete_upload,
                fmt::format("{} bytes received, its Upload-Length unknown", c.upload->data_size)};
        return {ItemStatus::incomplete_upload,
                fmt::format("{} of {} bytes received", c.upload->data_size, *c.upload->length)};
    }
    std::error_code ec;
    const auto size = fs::file_size(c.data, ec);
    if (ec)
        return {ItemStatus::unreadable, fmt::format("cannot read it: {}", ec.message())};
    if (size != expected.size)
        return {ItemStatus::size_mismatch,
                fmt::format("{} bytes, the manifest says {}", size, expected.size)};
    auto digest = hashes.of(c.data);
    if (!digest)
        return {ItemStatus::unreadable, digest.error().describe()};
    if (const auto got = to_hex(*digest); got != expected.sha256)
        return {ItemStatus::sha256_mismatch,
                fmt::format("sha256 {}, the manifest says {}", got, expected.sha256)};
    if (c.upload) {
        if (const auto meta = c.upload->meta("sha256"); !meta.empty() && meta != expected.sha256)
            return {ItemStatus::metadata_mismatch,
                    fmt::format("its upload's metadata names sha256 {}", meta)};
    }
    return {ItemStatus::ok, "size and sha256 match"};
}

std::string phone_note(const nlohmann::json& item) {
    if (json_string(item, "state") != "incomplete")
        return {};
    // Not always the phone's doing (a stall, a size it misstated): exhibitd may have stopped.
    auto reason = json_string(item, "incomplete_reason");
    return fmt::format("recorded incomplete ({}); the bytes stored are intact",
                       reason.empty() ? "no reason given" : reason);
}

}  // namespace

Result<Digest> HashCache::of(const fs::path& file) {
    auto it = done_.find(file);
    if (it == done_.end())
        it = done_.emplace(file, Sha256::of_file(file)).first;
    return it->second;
}

ItemResult check_item(const Delivery& delivery, const nlohmann::json& doc,
                      const nlohmann::json& item, HashCache& hashes) {
    ItemResult r;
    if (!item.is_object() || !item.contains("id") || !item["id"].is_number_integer() ||
        !item.contains("size") || !item["size"].is_number_unsigned() || !item.contains("sha256") ||
        !item["sha256"].is_string() || !is_sha256_hex(item["sha256"].get<std::string>())) {
        r.status = ItemStatus::invalid_entry;
        r.detail = "the manifest's entry lacks an integer id, a size or a sha256";
        if (item.is_object() && item.contains("id") && item["id"].is_number_integer())
            r.id = item["id"].get<std::int64_t>();
        return r;
    }
    r.id = item["id"].get<std::int64_t>();
    r.size = item["size"].get<std::uint64_t>();
    r.sha256 = item["sha256"].get<std::string>();
    r.source_path = json_string(item, "source_path");
    r.note = phone_note(item);

    const auto& d = json_member(item, "delivery");
    const auto state = json_string(d, "state");
    std::string tried;
    auto candidates = delivery.candidates(doc, r.id, item, &tried);
    if (d.is_object() && d.contains("same_content_as_item") &&
        d["same_content_as_item"].is_number_integer()) {
        const auto other = d["same_content_as_item"].get<std::int64_t>();
        if (const auto* entry = entry_of(doc, other)) {
            std::string also;
            auto more = delivery.candidates(doc, other, *entry, &also);
            candidates.insert(candidates.end(), more.begin(), more.end());
            tried += ", or " + also;
        }
        r.note += fmt::format("{}delivered once, with item {}", r.note.empty() ? "" : "; ", other);
    }
    if (candidates.empty()) {
        r.status = state == "cancelled" ? ItemStatus::cancelled : ItemStatus::missing;
        r.detail = state == "cancelled"
                       ? "its delivery was cancelled by an administrator: not delivered"
                       : "not delivered: found no " + tried;
        return r;
    }
    std::optional<Verdict> first;
    for (const auto& c : candidates) {
        auto v = evaluate(c, r, hashes);
        if (v.status == ItemStatus::ok) {
            r.status = ItemStatus::ok;
            r.detail = std::move(v.detail);
            r.location = c.location;
            return r;
        }
        if (!first) {
            first = std::move(v);
            r.location = c.location;
        }
    }
    r.status = first->status;
    r.detail = first->detail;
    if (candidates.size() > 1)
        r.detail += fmt::format(" ({} other copies failed too)", candidates.size() - 1);
    return r;
}

}  // namespace exhibit::verify
