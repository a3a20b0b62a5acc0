// Reads a tus server's file store as it lies on disk: each upload is a data file <id> and an
// info file beside it: <id>.json for @tus/file-store ({"id","size","offset","metadata",
// "creation_date"}, metadata decoded into an object) and for exhibit's test checksum server
// (metadata kept as the raw Upload-Metadata header), or <id>.info for tusd's filestore
// ({"ID","Size","SizeIsDeferred","Offset","MetaData",…}). Reentrant.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace exhibit::verify {

struct StoredUpload {
    std::string id;
    std::filesystem::path data;           // the received bytes
    std::filesystem::path info;           // the JSON beside them
    std::optional<std::uint64_t> length;  // Upload-Length; nullopt when deferred or unknown
    std::uint64_t data_size = 0;          // bytes on disk (the real offset)
    std::map<std::string, std::string> metadata;
    // When the server created the upload, by its clock, as it wrote it (ISO 8601 for
    // @tus/file-store's "creation_date"); empty when the info file does not say.
    std::string created;

    std::string meta(const std::string& key) const {
        auto it = metadata.find(key);
        return it == metadata.end() ? std::string() : it->second;
    }
    bool complete() const { return length && data_size == *length; }
};

// Parses an Upload-Metadata header ("key base64,key2 base64,flag").
Result<std::map<std::string, std::string>> decode_upload_metadata(std::string_view header);

// The uploads in `dir` (not recursive), sorted by id. Info files that are not tus info are
// skipped; an info file without its data file is an upload with data_size 0.
Result<std::vector<StoredUpload>> read_tus_store(const std::filesystem::path& dir);

}  // namespace exhibit::verify
