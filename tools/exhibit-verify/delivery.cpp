#include "delivery.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "common/base64.hpp"
#include "common/fs.hpp"
#include "common/sha256.hpp"
#include "tools/exhibit-verify/json_fields.hpp"

namespace exhibit::verify {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxManifestBytes = std::size_t{1} << 30;
constexpr std::size_t kSignatureSize = 64;

std::string json_text(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end())
        return {};
    if (it->is_string())
        return it->get<std::string>();
    if (it->is_number_integer())
        return std::to_string(it->get<std::int64_t>());
    return {};
}

std::string kiosk_of(const nlohmann::json& doc) {
    return doc.contains("kiosk") && doc["kiosk"].is_object() ? json_text(doc["kiosk"], "id") : "";
}

std::string session_of(const nlohmann::json& doc) {
    return doc.contains("session") && doc["session"].is_object() ? json_text(doc["session"], "id")
                                                                 : "";
}

// An upload belongs to the manifest's kiosk and session (kiosk_id may be absent upstream).
bool same_session(const StoredUpload& u, const nlohmann::json& doc) {
    const auto kiosk = u.meta("kiosk_id");
    return u.meta("session_id") == session_of(doc) && (kiosk.empty() || kiosk == kiosk_of(doc));
}

// The signature file's bytes: base64 text (as in the upload metadata) or the raw 64 bytes.
std::optional<std::vector<std::byte>> signature_bytes(const std::string& content) {
    std::string text = content;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
        text.pop_back();
    if (auto decoded = base64_decode(text); decoded && decoded->size() == kSignatureSize)
        return *decoded;
    if (content.size() == kSignatureSize) {
        const auto raw = std::as_bytes(std::span(content));
        return std::vector<std::byte>(raw.begin(), raw.end());
    }
    return std::nullopt;
}

// The phone path of an item as a relative path below the folder, or nullopt when it would
// leave it.
std::optional<fs::path> relative_source(const nlohmann::json& item) {
    std::string raw = json_string(item, "source_path");
    if (auto hex = item.find("source_path_raw_hex"); hex != item.end() && hex->is_string()) {
        auto bytes = from_hex(hex->get<std::string>());
        if (!bytes)
            return std::nullopt;
        raw.assign(reinterpret_cast<const char*>(bytes->data()), bytes->size());
    }
    // Records (messages, call log, contacts) have a content:// URI, not a path: items/<id>.
    if (raw.empty() || raw.find('\0') != std::string::npos || raw.find("://") != std::string::npos)
        return std::nullopt;
    fs::path rel = fs::path(raw).relative_path();
    for (const auto& part : rel)
        if (part == ".." || part == ".")
            return std::nullopt;
    if (rel.empty())
        return std::nullopt;
    return rel;
}

bool is_file(const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec);
}

}  // namespace

Result<Delivery> Delivery::open(const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        return fail(Errc::not_found, fmt::format("{} is not a directory", dir.string()));
    auto uploads = read_tus_store(dir);
    if (!uploads)
        return std::unexpected(uploads.error());
    Delivery d(uploads->empty() ? Layout::files : Layout::tus, dir);
    d.uploads_ = std::move(*uploads);
    if (d.layout_ == Layout::tus) {
        d.index_items();
        d.collect_tus_manifests();
    } else
        d.collect_file_manifests();
    return d;
}

void Delivery::index_items() {
    for (const auto& u : uploads_) {
        if (u.meta("type") != "item")
            continue;
        by_item_[{u.meta("session_id"), u.meta("item_id")}].push_back(&u);
        by_session_[u.meta("session_id")].push_back(&u);
    }
}

std::string Delivery::describe() const {
    if (layout_ == Layout::tus)
        return fmt::format("tus file store, {} uploads", uploads_.size());
    return "folder of files";
}

void Delivery::collect_tus_manifests() {
    // One manifest per kiosk and session: a complete upload wins over incomplete ones (left by
    // a re-created upload), and identical complete copies are verified once.
    std::map<std::pair<std::string, std::string>, std::vector<const StoredUpload*>> groups;
    for (const auto& u : uploads_)
        if (u.meta("type") == "manifest")
            groups[{u.meta("kiosk_id"), u.meta("session_id")}].push_back(&u);
    for (auto& [key, list] : groups) {
        const bool any_complete = std::ranges::any_of(list, [](auto* u) { return u->complete(); });
        std::set<std::string> seen_hashes;
        for (const auto* u : list) {
            if (any_complete && !u->complete()) {
                notes_.push_back(fmt::format(
                    "upload {} is an incomplete copy of the manifest of session {}; a complete "
                    "one was verified",
                    u->id, key.second));
                continue;
            }
            ManifestSource m{.origin = "upload " + u->id, .upload = u};
            auto body = exhibit::fs::read_file(u->data, kMaxManifestBytes);
            if (body)
                m.body = std::move(*body);
            else
                m.read_problem = body.error().describe();
            if (!m.body.empty() && !seen_hashes.insert(to_hex(Sha256::of(m.body))).second) {
                notes_.push_back(fmt::format("upload {} is a second copy of a manifest", u->id));
                continue;
            }
            auto sig = base64_decode(u->meta("signature"));
            if (u->meta("signature").empty())
                m.signature_problem = "the upload's metadata has no signature";
            else if (!sig || sig->size() != kSignatureSize)
                m.signature_problem = "the upload's signature metadata is not 64 bytes in base64";
            else
                m.signature = std::move(*sig);
            manifests_.push_back(std::move(m));
        }
    }
}

void Delivery::collect_file_manifests() {
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir_, ec)) {
        const auto name = entry.path().filename().string();
        if ((name == "manifest.json" || name.ends_with(".manifest.json")) &&
            entry.is_regular_file(ec))
            files.push_back(entry.path());
    }
    std::ranges::sort(files);
    for (const auto& file : files) {
        ManifestSource m{.origin = file.filename().string()};
        auto body = exhibit::fs::read_file(file, kMaxManifestBytes);
        if (body)
            m.body = std::move(*body);
        else
            m.read_problem = body.error().describe();
        auto sig_path = file;
        sig_path += ".sig";
        auto sig = exhibit::fs::read_file(sig_path, 4096);
        if (!sig)
            m.signature_problem = fmt::format("no signature file {}", sig_path.filename().string());
        else if (auto bytes = signature_bytes(*sig))
            m.signature = std::move(*bytes);
        else
            m.signature_problem =
                fmt::format("{} holds neither base64 of 64 bytes nor 64 raw bytes",
                            sig_path.filename().string());
        manifests_.push_back(std::move(m));
    }
}

std::vector<Candidate> Delivery::candidates(const nlohmann::json& doc, std::int64_t item_id,
                                            const nlohmann::json& item, std::string* tried) const {
    return layout_ == Layout::tus ? tus_candidates(doc, item_id, item, tried)
                                  : file_candidates(item_id, item, tried);
}

std::vector<Candidate> Delivery::tus_candidates(const nlohmann::json& doc, std::int64_t item_id,
                                                const nlohmann::json& item,
                                                std::string* tried) const {
    // The receipt's URL names the upload the kiosk saw complete: try it first.
    std::string url_id;
    if (auto d = item.find("delivery"); d != item.end() && d->is_object()) {
        const auto url = json_text(*d, "url");
        url_id = url.substr(url.rfind('/') + 1);
    }
    std::vector<Candidate> out;
    if (auto it = by_item_.find({session_of(doc), std::to_string(item_id)}); it != by_item_.end())
        for (const auto* u : it->second)
            if (same_session(*u, doc))
                out.push_back({.data = u->data, .location = "upload " + u->id, .upload = u});
    std::ranges::stable_sort(out, [&](const Candidate& a, const Candidate& b) {
        return (a.upload->id == url_id) > (b.upload->id == url_id);
    });
    if (tried)
        *tried = fmt::format("an upload with kiosk_id {}, session_id {}, item_id {}", kiosk_of(doc),
                             session_of(doc), item_id);
    return out;
}

std::vector<Candidate> Delivery::file_candidates(std::int64_t item_id, const nlohmann::json& item,
                                                 std::string* tried) const {
    std::vector<Candidate> out;
    std::vector<std::string> looked;
    if (auto rel = relative_source(item)) {
        looked.push_back(rel->string());
        if (is_file(dir_ / *rel))
            out.push_back({.data = dir_ / *rel, .location = rel->string()});
    }
    const auto by_id = fs::path("items") / std::to_string(item_id);
    looked.push_back(by_id.string());
    if (is_file(dir_ / by_id))
        out.push_back({.data = dir_ / by_id, .location = by_id.string()});
    if (tried) {
        tried->clear();
        for (const auto& l : looked)
            *tried += (tried->empty() ? "" : " or ") + l;
    }
    return out;
}

std::vector<std::string> Delivery::strays(const nlohmann::json& doc,
                                          const std::set<std::int64_t>& listed) const {
    std::vector<std::string> out;
    if (layout_ != Layout::tus)
        return out;
    auto it = by_session_.find(session_of(doc));
    if (it == by_session_.end())
        return out;
    std::set<std::string> ids;
    for (auto l : listed)
        ids.insert(std::to_string(l));
    for (const auto* u : it->second)
        if (same_session(*u, doc) && !ids.contains(u->meta("item_id")))
            out.push_back(fmt::format(
                "upload {} claims item_id {} of this session, which the manifest does not list",
                u->id, u->meta("item_id")));
    return out;
}

}  // namespace exhibit::verify
