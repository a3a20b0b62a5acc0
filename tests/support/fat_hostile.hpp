// Hostile FAT32 images for the removable-storage tests: a well-formed image (build_fat32)
// patched in place, byte by byte, into one that a careless reader loops on, trusts too far or
// names files from. Every offset is computed from the image's own boot sector (bytes per
// sector, sectors per cluster, reserved sectors, number and size of the FATs, root cluster)
// and from its directories, found by walking them; nothing is hard-coded. Each function
// names, in its comment, the on-disk field it changes.
//
// Paths are '/'-separated below the volume's root ("DCIM/100MEDIA"), each part matching an
// entry's long name exactly or its 8.3 name in any case. A function whose target is missing,
// or of the wrong kind, gives Errc::not_found or Errc::invalid_argument and changes nothing;
// an image that is not FAT32 gives Errc::unsupported.
//
// Reentrant: each call opens the image, patches it and closes it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace exhibit::testing {

// What a FAT32 boot sector (BPB) states, and the offsets that follow from it.
struct FatGeometry {
    std::uint32_t bytes_per_sector = 0;     // BPB_BytsPerSec, offset 11
    std::uint32_t sectors_per_cluster = 0;  // BPB_SecPerClus, offset 13
    std::uint32_t reserved_sectors = 0;     // BPB_RsvdSecCnt, offset 14
    std::uint32_t fat_count = 0;            // BPB_NumFATs, offset 16
    std::uint64_t total_sectors = 0;        // BPB_TotSec16 (19) or BPB_TotSec32 (32)
    std::uint32_t fat_sectors = 0;          // BPB_FATSz32, offset 36
    std::uint32_t root_cluster = 0;         // BPB_RootClus, offset 44

    std::uint64_t cluster_bytes() const {
        return std::uint64_t{bytes_per_sector} * sectors_per_cluster;
    }
    std::uint64_t volume_bytes() const { return total_sectors * bytes_per_sector; }
    // The first byte of FAT number `copy` (0-based).
    std::uint64_t fat_offset(std::uint32_t copy) const {
        return (std::uint64_t{reserved_sectors} + std::uint64_t{copy} * fat_sectors) *
               bytes_per_sector;
    }
    // The first byte of cluster `cluster` (the data region starts with cluster 2).
    std::uint64_t cluster_offset(std::uint32_t cluster) const {
        return fat_offset(fat_count) + std::uint64_t{cluster - 2} * cluster_bytes();
    }
    std::uint32_t cluster_count() const {
        return static_cast<std::uint32_t>((volume_bytes() - fat_offset(fat_count)) /
                                          cluster_bytes());
    }
};

// Reads and checks the boot sector of the FAT32 volume at the start of `image`.
Result<FatGeometry> read_fat_geometry(const std::filesystem::path& image);

// A folder whose cluster chain loops on itself: the FAT entry of the folder's last cluster
// (in every FAT copy), which held end-of-chain, is set to the folder's first cluster. A
// reader following the chain without a bound never reaches the end.
Status make_cluster_loop(const std::filesystem::path& image, std::string_view folder);

// A folder that contains its parent, a directory loop: the folder's entry in its parent,
// DIR_FstClusHI (offset 20) and DIR_FstClusLO (offset 26), is set to the parent's first
// cluster (BPB_RootClus when the parent is the root). Walking into the folder lists the
// parent again, and the folder in it, without end.
Status make_directory_loop(const std::filesystem::path& image, std::string_view folder);

// A file stating a size larger than its volume: its entry's DIR_FileSize (offset 28) is set
// to 0xFFFFFFFF (the volume must be smaller than 4 GiB). Its cluster chain is unchanged, so
// the bytes behind the stated size are not there.
Status make_oversized_file(const std::filesystem::path& image, std::string_view file);
// A file stating another size than its own: its entry's DIR_FileSize (offset 28) is set to
// `size`, its cluster chain unchanged. Larger than the chain holds (and within the volume),
// the bytes behind it are not the file's.
Status make_lying_size(const std::filesystem::path& image, std::string_view file,
                       std::uint32_t size);

// Names no file may have, written into a file's long-name (LFN) entries: the UTF-16 name
// characters of each LFN entry (LDIR_Name1 at offset 1, LDIR_Name2 at 14, LDIR_Name3 at 28)
// are rewritten, the count of LFN entries (LDIR_Ord) and their checksum of the 8.3 name
// (LDIR_Chksum) kept, so that readers still take the long name. The file must already have
// a long name of at least as many entries as the new one needs (13 UTF-16 units each). Each
// returns the new name as UTF-8 (an unpaired surrogate as U+FFFD).
//
// The long name's character at index length/2 (in UTF-16 units) becomes '/': a path
// separator inside one name ("report-2026.pdf" -> "report-/026.pdf").
Result<std::string> make_name_with_slash(const std::filesystem::path& image, std::string_view file);
// The first character of the long name becomes an unpaired high surrogate (0xD800), which
// no UTF-8 can hold.
Result<std::string> make_name_with_lone_surrogate(const std::filesystem::path& image,
                                                  std::string_view file);
// The long name becomes "..", the parent folder's name.
Result<std::string> make_name_dot_dot(const std::filesystem::path& image, std::string_view file);

// The image cut to half its size, as a copy interrupted or a stick pulled mid-write leaves it:
// the FATs and the root survive, the clusters of the second half are gone.
Status truncate_image(const std::filesystem::path& image);

}  // namespace exhibit::testing
