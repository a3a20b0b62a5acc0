#include "body_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>
#include <fmt/std.h>

#include "common/fs.hpp"

namespace exhibit::upload {

namespace {
// Blobs are written around the page cache and are usually cold when they are sent: without
// read-ahead well in front of curl, each read would wait for the disk on the event loop.
constexpr std::uint64_t kReadAhead = 32 << 20;
constexpr std::uint64_t kReadAheadStep = 8 << 20;
}  // namespace

Result<FileBody> FileBody::open(const std::filesystem::path& path, std::uint64_t expected_size) {
    auto fd = fs::open_file(path, O_RDONLY | O_CLOEXEC);
    if (!fd)
        return std::unexpected(fd.error());
    struct stat st {};
    if (::fstat(fd->get(), &st) != 0)
        return fail_errno(fmt::format("cannot stat {}", path));
    if (static_cast<std::uint64_t>(st.st_size) != expected_size)
        return fail(Errc::corrupt, fmt::format("{} has {} bytes, the catalog recorded {}", path,
                                               st.st_size, expected_size));
    // Read ahead generously; the pages are not kept in this process's memory.
    ::posix_fadvise(fd->get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    return FileBody(std::move(*fd), expected_size, path);
}

Result<std::size_t> FileBody::read_at(std::uint64_t offset, std::span<std::byte> out) {
    if (offset >= size_ || out.empty())
        return 0;
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), size_ - offset));
    if (offset > prefetched_)
        prefetched_ = offset;  // a resumed upload starts further on
    if (prefetched_ < size_ && prefetched_ + kReadAheadStep < offset + kReadAhead) {
        const std::uint64_t end = std::min(size_, offset + kReadAhead);
        ::posix_fadvise(fd_.get(), static_cast<off_t>(prefetched_),
                        static_cast<off_t>(end - prefetched_), POSIX_FADV_WILLNEED);
        prefetched_ = end;
    }
    for (;;) {
        const ssize_t n = ::pread(fd_.get(), out.data(), want, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail_errno(fmt::format("cannot read {}", path_));
        if (n == 0)
            return fail(Errc::corrupt,
                        fmt::format("{} ended at {} bytes, shorter than recorded", path_, offset));
        return static_cast<std::size_t>(n);
    }
}

Result<std::size_t> MemoryBody::read_at(std::uint64_t offset, std::span<std::byte> out) {
    if (offset >= data_.size())
        return 0;
    const auto n = std::min<std::size_t>(out.size(), data_.size() - offset);
    std::memcpy(out.data(), data_.data() + offset, n);
    return n;
}

}  // namespace exhibit::upload
