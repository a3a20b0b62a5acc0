// Reading a DFU store kept in S3 object storage (exhibit-dfu-server's bucket: @tus/s3-store's
// layout, docs/dfu.md): a small blocking S3 client (libcurl, Signature Version 4 from
// s3_protocol.hpp), and a copy of the store's tus uploads into a local folder in
// @tus/file-store's layout, which read_tus_store and everything above it read as any folder.
// Thread-compatible: one S3Client per thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "tools/exhibit-verify/s3_protocol.hpp"

namespace exhibit::verify {

class S3Client {
  public:
    explicit S3Client(S3Settings settings) : settings_(std::move(settings)) {}

    // Every object of `bucket` under `prefix`, page after page.
    Result<std::vector<S3Object>> list(const std::string& bucket, const std::string& prefix);
    // A whole object of at most `max` bytes; Errc::not_found when there is none.
    Result<std::string> get(const std::string& bucket, const std::string& key, std::uint64_t max);
    // An object into `file`, which must end with exactly `size` bytes.
    Status get_to_file(const std::string& bucket, const std::string& key,
                       const std::filesystem::path& file, std::uint64_t size);

  private:
    struct Answer {
        long status = 0;
        std::string body;  // small answers only; object bodies go to their file
    };
    Result<Answer> request(const std::string& bucket, const std::string& key,
                           const std::map<std::string, std::string>& query, std::FILE* sink,
                           std::uint64_t max);
    S3Settings settings_;
};

// How many uploads a copy took, and what it left out.
struct MirrorSummary {
    std::size_t uploads = 0;      // copied (their record, and their object when it exists)
    std::size_t incomplete = 0;   // a record without an object yet (still arriving)
    std::size_t skipped = 0;      // records `select` did not want
    std::vector<std::string> problems;  // records that could not be read, as sentences
};

// Copies the tus uploads under `location` whose metadata `select` accepts (all when empty)
// into `dir`: each upload's record (<id>.info, the Upload as JSON) becomes <id>.json and its
// object <id> the data file <id>. Only ids of [0-9A-Za-z_-] name files. Other objects
// (receipts, incomplete parts) are not copied.
Result<MirrorSummary> mirror_tus_uploads(
    S3Client& client, const S3Location& location, const std::filesystem::path& dir,
    const std::function<bool(const std::map<std::string, std::string>& metadata)>& select = {});

// A folder that is removed with everything in it when this goes away.
class ScratchDir {
  public:
    static Result<ScratchDir> create(std::string_view name);
    ScratchDir(ScratchDir&& o) noexcept : path_(std::exchange(o.path_, {})) {}
    ScratchDir& operator=(ScratchDir&&) = delete;
    ~ScratchDir();
    const std::filesystem::path& path() const { return path_; }

  private:
    explicit ScratchDir(std::filesystem::path p) : path_(std::move(p)) {}
    std::filesystem::path path_;
};

// For the command lines: an argument that is a folder stays one; an s3:// location is copied
// (as above, `select` choosing the uploads) into a scratch folder, the S3 settings read from
// the environment and then from `env_file` (if not empty).
struct StoreArgument {
    std::filesystem::path dir;
    std::unique_ptr<ScratchDir> scratch;  // the copy's folder, for an s3:// argument
    MirrorSummary summary;
};
Result<StoreArgument> open_store_argument(
    const std::string& argument, const std::string& env_file,
    const std::function<bool(const std::map<std::string, std::string>& metadata)>& select = {});

}  // namespace exhibit::verify
