#include "blob_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <charconv>
#include <random>

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

namespace {
// A spool file's name: "item-", the session, "-" and 16 random hex digits.
std::string spool_name(std::int64_t session_id) {
    thread_local std::mt19937_64 random{std::random_device{}()};
    return fmt::format("item-{}-{:016x}", session_id, random());
}
}  // namespace

std::optional<std::int64_t> BlobStore::session_of_spool(std::string_view name) {
    constexpr std::string_view kPrefix = "item-";
    if (!name.starts_with(kPrefix))
        return std::nullopt;
    name.remove_prefix(kPrefix.size());
    const auto dash = name.find('-');
    if (dash == 0 || dash == std::string_view::npos || name.size() - dash - 1 != 16)
        return std::nullopt;
    std::int64_t id = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + dash, id);
    if (ec != std::errc{} || end != name.data() + dash || id <= 0)
        return std::nullopt;
    return id;
}

namespace {
constexpr const char* kSpoolTagName = "user.exhibit.item";
constexpr std::size_t kMaxSpoolTag = 16 * 1024;
}  // namespace

Status BlobStore::tag_spool(const SpoolFile& spool, std::string_view tag) {
    if (tag.size() > kMaxSpoolTag)
        return fail(Errc::invalid_argument, "the spool file's tag is too long");
    if (::fsetxattr(spool.fd.get(), kSpoolTagName, tag.data(), tag.size(), 0) != 0)
        return fail_errno(fmt::format("cannot tag {}", spool.path));
    return {};
}

std::optional<std::string> BlobStore::spool_tag(const std::filesystem::path& path) {
    std::string tag(kMaxSpoolTag, '\0');
    const ssize_t n = ::lgetxattr(path.c_str(), kSpoolTagName, tag.data(), tag.size());
    if (n <= 0)
        return std::nullopt;
    tag.resize(static_cast<std::size_t>(n));
    return tag;
}

Result<SpoolFile> BlobStore::create_spool(std::int64_t session_id) const {
    // Created read-only (the creating descriptor may still write): the blob it becomes needs
    // no chmod, and nothing can open a spool file for writing by its name.
    for (int attempt = 0; attempt < 16; ++attempt) {
        auto path = spool_ / spool_name(session_id);
        int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0440);
        if (fd >= 0)
            return SpoolFile{UniqueFd(fd), std::move(path)};
        if (errno != EEXIST)
            return fail_errno(fmt::format("cannot create a spool file in {}", spool_));
    }
    return fail(Errc::io, fmt::format("cannot find a free spool file name in {}", spool_));
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
    spool.fd.reset();
    // Most blobs are new and their folder exists: one rename that never replaces does it.
    // Its folder missing: make it and rename again. A blob of that name already there, or a
    // file system without RENAME_NOREPLACE: look at what is there first.
    int r = ::renameat2(AT_FDCWD, spool.path.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE);
    if (r != 0 && errno == ENOENT && ::access(spool.path.c_str(), F_OK) == 0) {
        if (auto s = fs::ensure_directory(dir, 0750); !s)
            return std::unexpected(s.error());
        r = ::renameat2(AT_FDCWD, spool.path.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE);
    }
    if (r == 0) {
        spool.path.clear();  // it is a blob now
        dirty.insert(dir);
        return CommitOutcome::stored;
    }
    if (errno != EEXIST && errno != EINVAL && errno != ENOSYS)
        return fail_errno(fmt::format("cannot move {} to {}", spool.path, target));

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
    } else if (auto s = fs::ensure_directory(dir, 0750); !s) {
        return std::unexpected(s.error());
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
