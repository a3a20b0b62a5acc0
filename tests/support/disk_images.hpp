// Disk images for the removable-storage tests, built from a folder tree without root and
// without mounting, with Debian's own tools (dosfstools, mtools, e2fsprogs, ntfs-3g,
// genisoimage), and a referee that lists what an image holds with The Sleuth Kit's own
// command-line tools (fls, icat), not with the libtsk code under test.
//
// Each builder takes the image's path (created, or replaced), the source folder and a volume
// label. A tool that fails gives Errc::io kImageToolFailed with its command line, exit status
// and output; a tree the file system (or the tool writing it) cannot hold as it is gives
// Errc::unsupported kTreeNotRepresentable, saying which name, before anything is built, so
// that a referee never disagrees with the tree because a tool renamed a file silently:
//   - FAT32 (mtools): names in the Basic Multilingual Plane only (mcopy drops the characters
//     of a surrogate pair, emoji among them), up to 255 UTF-16 units;
//   - NTFS: ntfscp (the one way to write NTFS without FUSE) cannot create directories, so the
//     tree must hold files at its top only;
//   - ISO 9660: The Sleuth Kit reads the Joliet names, which hold 103 UTF-16 units at most
//     (genisoimage -joliet-long) and which TSK 4.11 cuts at a surrogate pair: names in the
//     BMP, up to 103 units.
//   - ext4: names up to 255 bytes.
// exFAT has no populate tool in exfatprogs: an image made once with exfat-fuse is committed
// (tests/storage/fixtures/README.md says how) and unpacked here.
//
// Every function is reentrant: each call works on its own files. They run child processes
// (tests/support/process.hpp), so the tests using them are of kind "process".
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "tests/support/file_tree.hpp"

namespace exhibit::testing {

// The start of an Error's message when an image tool (mkfs.*, mcopy, ntfscp, genisoimage,
// fls, icat, gzip) failed; the rest names the command, its exit status and its output.
inline constexpr std::string_view kImageToolFailed = "image tool failed";
// The start of an Error's message when a tree cannot be written as it is (see above).
inline constexpr std::string_view kTreeNotRepresentable = "tree not representable";

struct ImageOptions {
    // The image's size in bytes (for the partitioned stick: its FAT32 partition's); 0 sizes it
    // to fit the tree, with room to spare, at least the file system's minimum.
    std::uint64_t size = 0;
};

// FAT32 on the whole image (no partition table): mkfs.vfat -C -F 32 -n LABEL, then
// mcopy -s (long names kept). At least 40 MiB, so that FAT32 has its 65,525 clusters.
Status build_fat32(const std::filesystem::path& image, const std::filesystem::path& source,
                   std::string_view label, const ImageOptions& options = {});

// ext4 on the whole image: mkfs.ext4 -q -F -d SOURCE -L LABEL.
Status build_ext4(const std::filesystem::path& image, const std::filesystem::path& source,
                  std::string_view label, const ImageOptions& options = {});

// NTFS on the whole image: mkntfs -q -F -f -L LABEL, then ntfscp for each file. Files at
// the top of `source` only: ntfscp cannot create directories (kTreeNotRepresentable).
Status build_ntfs(const std::filesystem::path& image, const std::filesystem::path& source,
                  std::string_view label, const ImageOptions& options = {});

// ISO 9660 with Rock Ridge and Joliet: genisoimage -R -J -joliet-long -V LABEL.
Status build_iso9660(const std::filesystem::path& image, const std::filesystem::path& source,
                     std::string_view label);

// Where the partitioned stick's one partition starts, in 512-byte sectors (1 MiB), as a
// partitioning tool aligns it.
inline constexpr std::uint64_t kPartitionStartLba = 2048;

// A partitioned stick: an MBR (written here) with one FAT32 partition of type 0x0c at
// kPartitionStartLba, made with mkfs.vfat --offset and filled with mcopy -i IMAGE@@1M. The
// same names as build_fat32.
Status build_partitioned_fat32(const std::filesystem::path& image,
                               const std::filesystem::path& source, std::string_view label,
                               const ImageOptions& options = {});

// The committed exFAT image (tests/storage/fixtures/exfat_witness.img.gz), unpacked into
// `folder`: the image's path.
Result<std::filesystem::path> unpack_exfat_fixture(const std::filesystem::path& folder);
// The fixture's volume label.
inline constexpr std::string_view kExfatFixtureLabel = "WITNESS_USB";

// What an image holds, or a tree: a file's size and the SHA-256 of its bytes (lowercase hex).
struct FileFacts {
    std::uint64_t size = 0;
    std::string sha256;
    bool operator==(const FileFacts&) const = default;
};
// Path below the file system's root, '/'-separated, no leading '/' ("DCIM/IMG_1.jpg").
using FileMap = std::map<std::string, FileFacts>;

// The referee: every allocated regular file of the file system at `sector_offset` (512-byte
// sectors; a partition's start as mmls shows it) as The Sleuth Kit lists it, by running
// `fls -r -p -F -u [-o N] IMAGE` and hashing `icat [-o N] IMAGE INODE`'s output here. File-system
// metadata that fls lists as regular files is left out: NTFS's system files ($MFT, ...,
// $Extend/...: a top-level name starting with '$'), exFAT's $ALLOC_BITMAP and $UPCASE_TABLE,
// and the "(Volume Label Entry)" of FAT and exFAT. icat is a process per file: about 70 ms
// each on a FAT32 image here (10,000 files: 11.5 minutes), whatever the file's size.
Result<FileMap> referee_files(const std::filesystem::path& image, std::uint64_t sector_offset = 0);

// The referee's listing alone (fls, no icat): path -> the metadata address icat takes. For
// trees too large to hash file by file in a test (icat is a process per file).
Result<std::map<std::string, std::string>> referee_names(const std::filesystem::path& image,
                                                         std::uint64_t sector_offset = 0);

// The second referee for FAT: mtools' view. `mcopy -s -i IMAGE[@@OFFSET] ::/ OUT` into a
// fresh folder below `scratch` (`byte_offset`: the partition's first byte), then hashed.
Result<FileMap> referee_files_mtools(const std::filesystem::path& image,
                                     const std::filesystem::path& scratch,
                                     std::uint64_t byte_offset = 0);

// The files of a folder tree, as the referees give them (symbolic links are not followed).
Result<FileMap> files_of_tree(const std::filesystem::path& root);

// A list written as lines "SHA256 SIZE PATH" (the exFAT fixture's manifest).
Result<FileMap> read_manifest(const std::filesystem::path& manifest);
std::filesystem::path exfat_fixture_manifest();

// Trees a witness brings on a stick. Each writes below `root` and returns the paths written
// (relative to `root`).

// A CCTV export as a DVR writes one, below `root/folder`: CH01_20261130_2200.dav and
// CH02_20261130_2200.264 (footage), CH01_20261130_2200.idx (an index), Player.exe (random
// bytes standing for the player) and readme.txt (text).
std::vector<std::string> write_cctv_export(const std::filesystem::path& root,
                                           std::string_view folder = "EXPORT_2026-11-30",
                                           unsigned seed = 100);
// A camera's and an office's files: DCIM/100MEDIA/*.JPG and *.MP4, Documents/*.pdf and
// *.docx, Music/*.mp3, one with a long name in the BMP beyond ASCII.
std::vector<std::string> write_camera_and_documents(const std::filesystem::path& root,
                                                    unsigned seed = 200);
// `count` files of `size` random bytes each in `root/folder`, named as a camera names them:
// DSC00001.JPG, DSC00002.JPG, ... (8.3 names: mtools writes them with no long-name entries
// and no ~N short names to search for, which take it minutes for thousands of files).
std::vector<std::string> write_many_files(const std::filesystem::path& root,
                                          std::string_view folder, std::size_t count,
                                          std::size_t size, unsigned seed = 300);

// How long a builder or referee took, for tests and benchmarks that report it.
template <class F>
std::chrono::milliseconds time_of(F&& f) {
    auto start = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start);
}

}  // namespace exhibit::testing
