// Small, durable file-system helpers. Every function is reentrant.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "error.hpp"
#include "unique_fd.hpp"

namespace exhibit::fs {

// Create `dir` (and parents) with `mode` if missing; the last component is fsynced into its
// parent when created.
Status ensure_directory(const std::filesystem::path& dir, unsigned mode = 0750);

Result<UniqueFd> open_file(const std::filesystem::path& path, int flags, unsigned mode = 0600);

// Write all of `data`, retrying short writes and EINTR.
Status write_all(int fd, std::span<const std::byte> data);

// Read up to buffer.size() bytes, retrying EINTR; returns the count (0 at end of file).
Result<std::size_t> read_some(int fd, std::span<std::byte> buffer);

Status fsync_fd(int fd, const std::filesystem::path& what);
Status fsync_directory(const std::filesystem::path& dir);

// Whether write_file_atomic makes the new file durable before returning.
enum class Durability {
    synced,  // fsync the file before the rename and the directory after it
    none,    // readers never see a partial file, but a crash may leave the old one
};

// Write `contents` to a temporary file beside `path` (`path` + ".tmp." + pid), rename it over
// `path`, and with Durability::synced fsync file and directory: the file is either the old one
// or the whole new one, also after a crash.
Status write_file_atomic(const std::filesystem::path& path, std::string_view contents,
                         unsigned mode = 0600, Durability durability = Durability::synced);

Result<std::string> read_file(const std::filesystem::path& path, std::size_t max_bytes);

// Bytes available to an unprivileged writer on the filesystem holding `path`.
Result<std::uint64_t> free_bytes(const std::filesystem::path& path);

}  // namespace exhibit::fs
