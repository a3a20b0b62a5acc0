#include "blob_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/std.h>

#include "common/fs.hpp"

namespace exhibit::store {

BlobStore::BlobStore(std::filesystem::path state_directory)
    : state_(std::move(state_directory)),
      blobs_(state_ / "blobs"),
      spool_(state_ / "spool"),
      quarantine_(state_ / "quarantine") {}

Status BlobStore::prepare() const {
    for (const auto& dir : {blobs_, spool_, quarantine_})
        if (auto s = fs::ensure_directory(dir, 0750); !s)
            return s;
    return {};
}

Result<SpoolFile> BlobStore::create_spool() const {
    std::string tmpl = (spool_ / "item-XXXXXX").string();
    int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd < 0)
        return fail_errno(fmt::format("cannot create a spool file in {}", spool_));
    return SpoolFile{UniqueFd(fd), std::filesystem::path(tmpl)};
}

std::string BlobStore::relative_path(const Digest& digest) {
    auto hex = to_hex(digest);
    return fmt::format("blobs/{}/{}", hex.substr(0, 2), hex);
}

std::filesystem::path BlobStore::path_of(const Digest& digest) const {
    return state_ / relative_path(digest);
}

std::filesystem::path BlobStore::path_of_relative(const std::string& relative) const {
    return state_ / relative;
}

void SpoolFile::discard() {
    fd.reset();
    if (!path.empty())
        ::unlink(path.c_str());
    path.clear();
}

Result<CommitOutcome> BlobStore::install(SpoolFile spool, const Digest& digest, std::uint64_t size,
                                         std::set<std::filesystem::path>& dirty) const {
    const auto target = path_of(digest);
    const auto dir = target.parent_path();
    if (auto s = fs::ensure_directory(dir, 0750); !s)
        return std::unexpected(s.error());
    // Blobs are read-only: nothing in exhibit writes a blob after this point.
    if (::fchmod(spool.fd.get(), 0440) != 0)
        return fail_errno(fmt::format("chmod {}", spool.path));
    spool.fd.reset();

    CommitOutcome outcome = CommitOutcome::stored;
    struct stat st {};
    if (::lstat(target.c_str(), &st) == 0) {
        if (S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) == size)
            return CommitOutcome::deduplicated;  // ~SpoolFile removes the duplicate
        // The stored copy is damaged (wrong size): keep it for inspection, install the good one.
        auto moved =
            quarantine_ / fmt::format("{}.{}", target.filename().string(), ::time(nullptr));
        if (::rename(target.c_str(), moved.c_str()) != 0)
            return fail_errno(fmt::format("cannot quarantine damaged blob {}", target));
        dirty.insert(quarantine_);
        outcome = CommitOutcome::repaired;
    }
    if (::rename(spool.path.c_str(), target.c_str()) != 0)
        return fail_errno(fmt::format("cannot move {} to {}", spool.path, target));
    spool.path.clear();  // it is a blob now
    dirty.insert(dir);
    return outcome;
}

Status BlobStore::sync_directories(const std::set<std::filesystem::path>& dirty) const {
    // A few directories: fsync each. Many (a batch of small items lands in up to 256 blob
    // folders): one syncfs commits every rename on the file system at once, instead of a
    // journal commit per folder.
    constexpr std::size_t kSyncfsFrom = 4;
    if (dirty.size() >= kSyncfsFrom) {
        auto fd = fs::open_file(spool_, O_RDONLY | O_DIRECTORY);
        if (!fd)
            return std::unexpected(fd.error());
        if (::syncfs(fd->get()) != 0)
            return fail_errno(fmt::format("cannot flush the blob store at {}", state_));
        return {};
    }
    for (const auto& dir : dirty)
        if (auto s = fs::fsync_directory(dir); !s)
            return s;
    return fs::fsync_directory(spool_);
}

}  // namespace exhibit::store
