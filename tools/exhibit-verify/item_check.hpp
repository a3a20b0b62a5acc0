// The check of one manifest item against what was delivered: the bytes exist (in the upload
// the metadata names, or the file the layout names), are complete, have the manifest's size
// and SHA-256, and the upload's metadata names the same sha256. Thread-compatible: one
// HashCache per thread.
#pragma once

#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "common/sha256.hpp"
#include "tools/exhibit-verify/delivery.hpp"
#include "tools/exhibit-verify/report.hpp"

namespace exhibit::verify {

// SHA-256 of each file hashed once, however many items share it.
class HashCache {
  public:
    Result<Digest> of(const std::filesystem::path& file);

  private:
    std::map<std::filesystem::path, Result<Digest>> done_;
};

// Checks the manifest entry `item` of `doc` against `delivery`.
ItemResult check_item(const Delivery& delivery, const nlohmann::json& doc,
                      const nlohmann::json& item, HashCache& hashes);

}  // namespace exhibit::verify
