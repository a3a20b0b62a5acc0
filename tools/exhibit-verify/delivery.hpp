// What the DFU received, in one of the two layouts exhibit-verify accepts
// (docs/exhibit-verify.md):
//  - a tus file store: uploads matched to the manifest through their Upload-Metadata
//    (type, kiosk_id, session_id, item_id), the manifest being the upload of type
//    "manifest" with its detached signature in the metadata;
//  - a folder of files: <name>.manifest.json (or manifest.json), its signature in
//    <name>.manifest.json.sig (base64 or the raw 64 bytes), and each item at the phone's path
//    below the folder or at items/<item id>.
// Reentrant after open().
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "tools/exhibit-verify/tus_store.hpp"

namespace exhibit::verify {

enum class Layout { tus, files };

struct ManifestSource {
    std::string origin;        // "upload <id>" or the file name
    std::string body;          // the exact bytes received (empty if unreadable)
    std::string read_problem;  // why the body could not be read, if it could not
    std::optional<std::vector<std::byte>> signature;  // nullopt when none was found
    std::string signature_problem;                    // why there is none, or why it is unusable
    const StoredUpload* upload = nullptr;             // tus: the manifest's upload
};

// A place that may hold an item's bytes.
struct Candidate {
    std::filesystem::path data;
    std::string location;                  // "upload <id>" or the path below the folder
    const StoredUpload* upload = nullptr;  // tus: its length and metadata
};

class Delivery {
  public:
    static Result<Delivery> open(const std::filesystem::path& dir);
    // Move-only: the indexes and manifests point into uploads_.
    Delivery(Delivery&&) = default;
    Delivery& operator=(Delivery&&) = default;
    Delivery(const Delivery&) = delete;
    Delivery& operator=(const Delivery&) = delete;

    Layout layout() const { return layout_; }
    const std::filesystem::path& dir() const { return dir_; }
    std::string describe() const;
    const std::vector<ManifestSource>& manifests() const { return manifests_; }
    // Manifest uploads left aside (incomplete or duplicate), as sentences.
    const std::vector<std::string>& notes() const { return notes_; }

    // Where item `item_id` of the manifest `doc` may be, best first (only places that exist).
    // `item` is the manifest's entry for it (files layout: its source path); `tried` gets
    // what was looked for, for the report.
    std::vector<Candidate> candidates(const nlohmann::json& doc, std::int64_t item_id,
                                      const nlohmann::json& item, std::string* tried) const;
    // tus: uploads of the manifest's kiosk and session whose item_id the manifest does not
    // list, as sentences.
    std::vector<std::string> strays(const nlohmann::json& doc,
                                    const std::set<std::int64_t>& listed) const;

  private:
    Delivery(Layout layout, std::filesystem::path dir) : layout_(layout), dir_(std::move(dir)) {}
    void collect_tus_manifests();
    void collect_file_manifests();
    std::vector<Candidate> tus_candidates(const nlohmann::json& doc, std::int64_t item_id,
                                          const nlohmann::json& item, std::string* tried) const;
    std::vector<Candidate> file_candidates(std::int64_t item_id, const nlohmann::json& item,
                                           std::string* tried) const;

    void index_items();

    Layout layout_;
    std::filesystem::path dir_;
    std::vector<StoredUpload> uploads_;
    // tus item uploads by (session_id, item_id), and by session_id, so that a store holding
    // millions of uploads is not scanned once per item.
    std::map<std::pair<std::string, std::string>, std::vector<const StoredUpload*>> by_item_;
    std::map<std::string, std::vector<const StoredUpload*>> by_session_;
    std::vector<ManifestSource> manifests_;
    std::vector<std::string> notes_;
};

}  // namespace exhibit::verify
