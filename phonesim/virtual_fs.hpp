// The phone's shared storage: /sdcard and /storage/emulated/0 map onto --root DIR. A path
// that leaves the root (through "..", or a symlink pointing outside) is treated as absent.
// Reentrant: only reads the file system.
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "drivers/adb/sync_protocol.hpp"

namespace exhibit::phonesim {

class VirtualFs {
  public:
    explicit VirtualFs(std::filesystem::path root);

    // The host path for a phone path, or nullopt when it is not served.
    std::optional<std::filesystem::path> resolve(std::string_view phone_path) const;

    // The host path a phone path finally designates, every symlink followed, when it exists
    // and stays inside the root; nullopt when it is absent, not served or escapes.
    std::optional<std::filesystem::path> resolve_target(std::string_view phone_path) const;
    // Opens a regular file for RECV; the error carries the errno adbd would report.
    Result<UniqueFd> open_file(std::string_view phone_path) const;

    // stat (follow) or lstat; error is the errno (ENOENT for anything not served).
    adb::sync::FileStat stat(std::string_view phone_path, bool follow) const;
    // Entries of a directory with lstat data, "." and ".." first; empty when not a directory.
    std::vector<adb::sync::DirEntry> list(std::string_view phone_path) const;

  private:
    bool inside(const std::string& real_path) const;

    std::filesystem::path root_;
    std::filesystem::path real_root_;
};

adb::sync::FileStat to_file_stat(const struct stat& st);

}  // namespace exhibit::phonesim
