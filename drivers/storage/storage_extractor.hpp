// Extraction from a removable disk: walks every file system libtsk found (TskDisk), chooses
// the files in scope with the rules every family shares (drivers/shared_storage.hpp:
// categories by extension, the time window on the modification time), and streams each
// file's bytes into an ArtefactSink, the size the file system states checked against the
// bytes read.
//
// CCTV exports (cctv_export): a CCTV system writes its footage in its own containers (.dav,
// .264, ...: is_cctv_container) next to index files and a player. A folder at the top of a
// file system holding such a container anywhere below it is an export, and is taken whole:
// every file in it, whatever its name or date, so that the DFU can play it. A container
// at the very top makes the whole file system one export.
//
// The whole disk (disk_image): every byte of the device, from its first to its last, as one
// item at kDiskImagePath, after the files. Only allocated names are walked: deleted files are not taken (a logical
// extraction). File-system metadata (NTFS's $ files, exFAT's bitmap and up-case table, a FAT
// volume label) is not a file of the owner's and is never taken.
//
// A disk's file systems are hostile input: names no file can have, folders that contain
// themselves (a loop), too many entries, too deep nesting, files larger than their volume,
// records libtsk cannot follow. Each such entry is skipped, or its item ends incomplete, with
// a named reason; the limits on the whole walk end the extraction with a named error.
//
// Thread-bound to the disk's thread (the session worker).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "drivers/artefact.hpp"
#include "drivers/storage/storage_driver.hpp"
#include "drivers/storage/tsk_disk.hpp"

namespace exhibit::storage {

// A file chosen on the disk.
struct StorageFile {
    std::size_t file_system = 0;  // index in TskDisk::file_systems()
    std::uint64_t inode = 0;      // libtsk's metadata address
    std::string path;             // "/fs1/DCIM/100MEDIA/IMG_0001.JPG"
    drivers::Category category = drivers::Category::photos;
    std::uint64_t size = 0;  // as the file system states it
    std::optional<std::int64_t> mtime_ms;
};

// Whether a file's name marks a CCTV system's own video container.
bool is_cctv_container(std::string_view name);

class StorageExtractor {
  public:
    using SkipHandler = std::function<void(const drivers::Artefact&, const Error&)>;

    StorageExtractor(TskDisk& disk, StorageLimits limits) : disk_(disk), limits_(limits) {}

    // The disk's and its file systems' identity, as "storage.*" properties.
    void describe(drivers::DeviceInfo& info);
    Result<drivers::Preview> preview(const drivers::Scope& scope);
    Status extract(const drivers::Scope& scope, drivers::ArtefactSink& sink);
    // The files in scope; hostile entries go to `on_skip`.
    Result<std::vector<StorageFile>> enumerate(const drivers::Scope& scope,
                                               const SkipHandler& on_skip);

  private:
    struct Walk;
    Status walk(Walk& w, std::uint64_t folder, const std::string& relative, std::size_t depth);
    Status copy(const StorageFile& f, drivers::ArtefactSink& sink);
    Status copy_disk(drivers::ArtefactSink& sink);

    TskDisk& disk_;
    StorageLimits limits_;
};

}  // namespace exhibit::storage
