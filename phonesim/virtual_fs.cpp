#include "virtual_fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

namespace exhibit::phonesim {

namespace {
constexpr std::string_view kMounts[] = {"/sdcard", "/storage/emulated/0", "/storage/self/primary"};
}

adb::sync::FileStat to_file_stat(const struct stat& st) {
    adb::sync::FileStat f;
    f.dev = st.st_dev;
    f.ino = st.st_ino;
    f.mode = st.st_mode;
    f.nlink = static_cast<std::uint32_t>(st.st_nlink);
    f.uid = st.st_uid;
    f.gid = st.st_gid;
    f.size = static_cast<std::uint64_t>(st.st_size);
    f.atime = st.st_atim.tv_sec;
    f.mtime = st.st_mtim.tv_sec;
    f.ctime = st.st_ctim.tv_sec;
    return f;
}

VirtualFs::VirtualFs(std::filesystem::path root) : root_(std::move(root)) {
    char buf[PATH_MAX];
    real_root_ = ::realpath(root_.c_str(), buf) ? std::filesystem::path(buf) : root_;
}

std::optional<std::filesystem::path> VirtualFs::resolve(std::string_view phone_path) const {
    if (phone_path.find('\0') != std::string_view::npos)
        return std::nullopt;
    for (auto mount : kMounts) {
        if (!phone_path.starts_with(mount))
            continue;
        auto rest = phone_path.substr(mount.size());
        if (!rest.empty() && rest.front() != '/')
            continue;
        // Refuse any ".." component outright: the phone's own paths never need one.
        std::filesystem::path rel;
        std::size_t pos = 0;
        while (pos < rest.size()) {
            auto next = rest.find('/', pos);
            if (next == std::string_view::npos)
                next = rest.size();
            auto part = rest.substr(pos, next - pos);
            if (part == "..")
                return std::nullopt;
            if (!part.empty() && part != ".")
                rel /= std::string(part);
            pos = next + 1;
        }
        auto host = rel.empty() ? real_root_ : real_root_ / rel;
        // Symlinks may point anywhere: the parent directory must resolve inside the root.
        char buf[PATH_MAX];
        auto parent = host.has_parent_path() && !rel.empty() ? host.parent_path() : host;
        if (::realpath(parent.c_str(), buf) && !inside(buf))
            return std::nullopt;
        return host;
    }
    return std::nullopt;
}

bool VirtualFs::inside(const std::string& real_path) const {
    const std::string& base = real_root_.native();
    return real_path == base || real_path.starts_with(base + "/");
}

std::optional<std::filesystem::path> VirtualFs::resolve_target(std::string_view phone_path) const {
    auto host = resolve(phone_path);
    if (!host)
        return std::nullopt;
    char buf[PATH_MAX];
    if (!::realpath(host->c_str(), buf) || !inside(buf))
        return std::nullopt;
    return std::filesystem::path(buf);
}

Result<UniqueFd> VirtualFs::open_file(std::string_view phone_path) const {
    auto target = resolve_target(phone_path);
    if (!target)
        return fail_errno("open failed", ENOENT);
    // The resolved path has no symlink left: refuse one swapped in since.
    UniqueFd fd(::open(target->c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd)
        return fail_errno("open failed");
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        return fail_errno("open failed");
    if (S_ISDIR(st.st_mode))
        return fail_errno("open failed", EISDIR);
    return fd;
}

adb::sync::FileStat VirtualFs::stat(std::string_view phone_path, bool follow) const {
    adb::sync::FileStat f;
    // lstat names the entry itself; stat must also land inside the root.
    auto host = follow ? resolve_target(phone_path) : resolve(phone_path);
    if (!host) {
        f.error = ENOENT;
        return f;
    }
    struct stat st {};
    if ((follow ? ::stat(host->c_str(), &st) : ::lstat(host->c_str(), &st)) != 0) {
        f.error = static_cast<std::uint32_t>(errno);
        return f;
    }
    return to_file_stat(st);
}

std::vector<adb::sync::DirEntry> VirtualFs::list(std::string_view phone_path) const {
    std::vector<adb::sync::DirEntry> out;
    auto host = resolve_target(phone_path);
    if (!host)
        return out;
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(host->c_str()), ::closedir);
    if (!dir)
        return out;
    while (auto* e = ::readdir(dir.get())) {
        adb::sync::DirEntry entry;
        entry.name = e->d_name;
        struct stat st {};
        if (::fstatat(::dirfd(dir.get()), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        entry.stat = to_file_stat(st);
        out.push_back(std::move(entry));
    }
    return out;
}

}  // namespace exhibit::phonesim
