// A Disk as The Sleuth Kit sees it: its partitions and the file systems on them, opened
// through libtsk's external-image interface, so that every byte libtsk reads comes through
// Disk::read (read-only, interruptible, a vanished disk named). Everything libtsk-specific
// stays in this class and the extractor (storage_extractor.*).
//
// Used by one thread at a time (libtsk keeps per-image caches and per-thread errors).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "drivers/storage/disk.hpp"

struct TSK_FS_INFO;
struct TSK_IMG_INFO;

namespace exhibit::storage {

// One file system found on the disk, and where.
struct FileSystem {
    std::string name;       // "fs1", "fs2", ... in the order found: the first part of paths
    std::uint64_t offset = 0;  // its first byte on the disk
    std::string type;       // libtsk's name: "fat32", "exfat", "ntfs", "ext4", "iso9660", ...
    std::string serial;     // the volume serial / UUID bytes as hex, as the file system states
    std::string label;      // the volume label FAT and exFAT keep at their top; "" otherwise
    std::string partition;  // the partition table's words for it ("Win95 FAT32 (0x0c)"); empty
                            // for a file system on the whole disk
    TSK_FS_INFO* fs = nullptr;  // owned by the TskDisk
};

class TskDisk {
  public:
    // Opens the disk's image in libtsk and every file system on it: in each allocated
    // partition of a partition table (DOS/MBR, GPT, ...), or on the whole disk when there is
    // none. Errc::unsupported, saying so, when no file system libtsk reads is found.
    static Result<std::unique_ptr<TskDisk>> open(std::unique_ptr<Disk> disk,
                                                 std::size_t max_file_systems);
    ~TskDisk();
    TskDisk(const TskDisk&) = delete;
    TskDisk& operator=(const TskDisk&) = delete;

    Disk& disk() { return *disk_; }
    const std::string& partition_table() const { return partition_table_; }  // "" when none
    std::vector<FileSystem>& file_systems() { return file_systems_; }

  private:
    explicit TskDisk(std::unique_ptr<Disk> disk) : disk_(std::move(disk)) {}

    std::unique_ptr<Disk> disk_;
    TSK_IMG_INFO* image_ = nullptr;
    void* vs_ = nullptr;  // TSK_VS_INFO*, when the disk has a partition table
    std::string partition_table_;
    std::vector<FileSystem> file_systems_;
};

// How libtsk lists a FAT or exFAT volume label among the top folder's entries.
inline constexpr std::string_view kLabelSuffix = " (Volume Label Entry)";

// libtsk's last error on this thread, as words ("" when it set none), and reset.
std::string tsk_error_text();

}  // namespace exhibit::storage
