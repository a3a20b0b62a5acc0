// Content-addressed blob files: <state>/blobs/ab/abcdef... named by their SHA-256, written
// through <state>/spool/ so that a crash leaves either nothing or a whole blob.
// Reentrant: it only holds paths; every operation is atomic on the file system.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "common/error.hpp"
#include "common/sha256.hpp"
#include "common/unique_fd.hpp"

namespace exhibit::store {

struct SpoolFile {
    UniqueFd fd;
    std::filesystem::path path;
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

    Result<SpoolFile> create_spool() const;

    // Makes the spool file (already written and fsynced by the caller) the blob for
    // `digest` of `size` bytes: rename into place and fsync the directories. Identical content
    // stored before is kept and the spool file removed.
    Result<CommitOutcome> commit(SpoolFile spool, const Digest& digest, std::uint64_t size) const;

    // "blobs/ab/abcdef..." relative to the state directory.
    static std::string relative_path(const Digest& digest);
    std::filesystem::path path_of(const Digest& digest) const;
    std::filesystem::path path_of_relative(const std::string& relative) const;
    const std::filesystem::path& spool_directory() const { return spool_; }

  private:
    Result<CommitOutcome> commit_spool(SpoolFile spool, const Digest& digest,
                                       std::uint64_t size) const;

    std::filesystem::path state_;
    std::filesystem::path blobs_;
    std::filesystem::path spool_;
    std::filesystem::path quarantine_;
};

}  // namespace exhibit::store
