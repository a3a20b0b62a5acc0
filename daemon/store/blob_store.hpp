// Content-addressed blob files: <state>/blobs/ab/abcdef... named by their SHA-256, written
// through <state>/spool/ so that a crash leaves either nothing or a whole blob.
// Reentrant: it only holds paths; every operation is atomic on the file system.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "common/error.hpp"
#include "common/sha256.hpp"
#include "common/unique_fd.hpp"

namespace exhibit::store {

// A partial file in spool/. Removed when destroyed, unless the blob store took it.
struct SpoolFile {
    UniqueFd fd;
    std::filesystem::path path;

    SpoolFile() = default;
    SpoolFile(UniqueFd f, std::filesystem::path p) : fd(std::move(f)), path(std::move(p)) {}
    SpoolFile(SpoolFile&& o) noexcept : fd(std::move(o.fd)), path(std::exchange(o.path, {})) {}
    SpoolFile& operator=(SpoolFile&& o) noexcept {
        if (this != &o) {
            discard();
            fd = std::move(o.fd);
            path = std::exchange(o.path, {});
        }
        return *this;
    }
    ~SpoolFile() { discard(); }
    void discard();
};

enum class CommitOutcome {
    stored,        // a new blob was renamed into place
    deduplicated,  // the same content was already stored; the spool file was dropped
    repaired,      // a damaged blob with this name was moved to quarantine and replaced
};

class BlobStore {
  public:
    explicit BlobStore(std::filesystem::path state_directory);

    // Creates blobs/, spool/ and quarantine/ if missing.
    Status prepare() const;

    // A new spool file for an item of `session_id`, named "item-<session>-<16 hex digits>" so
    // that a partial file left by a crash still says whose it was.
    Result<SpoolFile> create_spool(std::int64_t session_id) const;
    // The session a spool file's name says it belongs to (nullopt for other names).
    static std::optional<std::int64_t> session_of_spool(std::string_view name);
    // Records on a spool file whose item it holds (an extended attribute, so that it needs no
    // second file and goes wherever the file goes); read back by spool_tag(). Fails where the
    // file system has no user extended attributes or the tag is too long for it.
    static Status tag_spool(const SpoolFile& spool, std::string_view tag);
    static std::optional<std::string> spool_tag(const std::filesystem::path& path);

    // Makes the spool file (already written and made durable by the caller) the blob for
    // `digest` of `size` bytes by renaming it into place; identical content stored before is
    // kept and the spool file removed. The directory to fsync afterwards is added to `dirty`.
    Result<CommitOutcome> install(SpoolFile spool, const Digest& digest, std::uint64_t size,
                                  std::set<std::filesystem::path>& dirty) const;
    // Makes the renames into `dirty` directories (and out of the spool) durable.
    Status sync_directories(const std::set<std::filesystem::path>& dirty) const;

    // "blobs/ab/abcdef..." relative to the state directory.
    static std::string relative_path(const Digest& digest);
    std::filesystem::path path_of(const Digest& digest) const;
    std::filesystem::path path_of_relative(const std::string& relative) const;
    const std::filesystem::path& spool_directory() const { return spool_; }
    const std::filesystem::path& quarantine_directory() const { return quarantine_; }

  private:
    Result<CommitOutcome> commit_spool(SpoolFile spool, const Digest& digest,
                                       std::uint64_t size) const;

    std::filesystem::path state_;
    std::filesystem::path blobs_;
    std::filesystem::path spool_;
    std::filesystem::path quarantine_;
};

}  // namespace exhibit::store
