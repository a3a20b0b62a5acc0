#include "fs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/std.h>

namespace exhibit::fs {

Status ensure_directory(const std::filesystem::path& dir, unsigned mode) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return fail(Errc::io, fmt::format("{} is not a directory", dir));
        return {};
    }
    if (dir.has_parent_path() && dir.parent_path() != dir) {
        if (auto s = ensure_directory(dir.parent_path(), mode); !s)
            return s;
    }
    if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST)
        return fail_errno(fmt::format("cannot create directory {}", dir));
    if (dir.has_parent_path())
        return fsync_directory(dir.parent_path());
    return {};
}

Result<UniqueFd> open_file(const std::filesystem::path& path, int flags, unsigned mode) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    if (fd < 0)
        return fail_errno(fmt::format("cannot open {}", path));
    return UniqueFd(fd);
}

Status write_all(int fd, std::span<const std::byte> data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return fail_errno("write failed");
        }
        data = data.subspan(static_cast<std::size_t>(n));
    }
    return {};
}

Result<std::size_t> read_some(int fd, std::span<std::byte> buffer) {
    for (;;) {
        ssize_t n = ::read(fd, buffer.data(), buffer.size());
        if (n >= 0)
            return static_cast<std::size_t>(n);
        if (errno != EINTR)
            return fail_errno("read failed");
    }
}

Status fsync_fd(int fd, const std::filesystem::path& what) {
    if (::fsync(fd) != 0)
        return fail_errno(fmt::format("fsync of {} failed", what));
    return {};
}

Status fsync_directory(const std::filesystem::path& dir) {
    auto fd = open_file(dir.empty() ? "." : dir, O_RDONLY | O_DIRECTORY);
    if (!fd)
        return std::unexpected(fd.error());
    return fsync_fd(fd->get(), dir);
}

Status write_file_atomic(const std::filesystem::path& path, std::string_view contents,
                         unsigned mode, Durability durability) {
    const bool sync = durability == Durability::synced;
    auto tmp = path;
    tmp += fmt::format(".tmp.{}", ::getpid());
    {
        // A leftover of an earlier try is replaced, never followed: in a directory that others
        // may write to (a metrics directory), the name could be a planted link.
        ::unlink(tmp.c_str());
        auto fd = open_file(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
        if (!fd)
            return std::unexpected(fd.error());
        if (::fchmod(fd->get(), mode) != 0)
            return fail_errno(fmt::format("chmod {}", tmp));
        auto bytes = std::as_bytes(std::span(contents.data(), contents.size()));
        if (auto s = write_all(fd->get(), bytes); !s)
            return s;
        if (sync)
            if (auto s = fsync_fd(fd->get(), tmp); !s)
                return s;
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        return fail_errno(fmt::format("cannot rename {} to {}", tmp, path), err);
    }
    return sync ? fsync_directory(path.parent_path()) : Status{};
}

Result<std::string> read_file(const std::filesystem::path& path, std::size_t max_bytes) {
    auto fd = open_file(path, O_RDONLY);
    if (!fd)
        return std::unexpected(fd.error());
    std::string out;
    std::byte buf[8192];
    for (;;) {
        auto n = read_some(fd->get(), buf);
        if (!n)
            return std::unexpected(n.error());
        if (*n == 0)
            break;
        if (out.size() + *n > max_bytes)
            return fail(Errc::invalid_argument,
                        fmt::format("{} is larger than {} bytes", path, max_bytes));
        out.append(reinterpret_cast<const char*>(buf), *n);
    }
    return out;
}

Result<std::uint64_t> free_bytes(const std::filesystem::path& path) {
    struct statvfs vfs {};
    if (::statvfs(path.c_str(), &vfs) != 0)
        return fail_errno(fmt::format("statvfs {}", path));
    return static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
}

}  // namespace exhibit::fs
