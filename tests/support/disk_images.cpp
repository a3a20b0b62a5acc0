#include "tests/support/disk_images.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "common/sha256.hpp"
#include "tests/support/process.hpp"

namespace exhibit::testing {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;
// A FAT32 volume needs 65,525 clusters: with mkfs.vfat's 512-byte clusters below 260 MiB,
// about 34 MiB; 40 MiB leaves room.
constexpr std::uint64_t kFat32Minimum = 40 * kMiB;
constexpr std::uint64_t kExt4Minimum = 8 * kMiB;
constexpr std::uint64_t kNtfsMinimum = 8 * kMiB;  // mkntfs refuses 1 MiB, takes 2 MiB
// Generous: mcopy wrote a GiB in 2 s here, but a loaded machine's disk can be far slower.
constexpr std::chrono::seconds kToolTimeout{1800};
constexpr std::chrono::seconds kReadTimeout{600};

std::string command_line(const std::vector<std::string>& argv) {
    std::string line;
    for (const auto& a : argv) {
        if (!line.empty())
            line += ' ';
        line += a.find(' ') == std::string::npos ? a : "'" + a + "'";
    }
    return line;
}

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.pop_back();
    constexpr std::size_t kKeep = 4000;  // a tool that complains per file says enough early
    if (text.size() > kKeep)
        text = text.substr(0, kKeep) + "...";
    return text;
}

std::unexpected<Error> tool_failed(const std::vector<std::string>& argv, int status,
                                   const std::string& output) {
    return fail(Errc::io,
                std::string(kImageToolFailed) + ": " + command_line(argv) +
                    (status < 0 ? " did not finish" : " exited " + std::to_string(status)) + ": " +
                    trimmed(output));
}

// Runs an image tool to completion; its output (stdout and stderr) in the error.
Status run_tool(const std::vector<std::string>& argv) {
    // MTOOLS_SKIP_CHECK: mtools otherwise checks an image's geometry as a floppy's, and may
    // refuse one whose size is no whole number of tracks.
    auto [status, output] = run_command(argv, kToolTimeout, {"MTOOLS_SKIP_CHECK=1"});
    if (status != 0)
        return tool_failed(argv, status, output);
    return {};
}

// A tool whose stdout is data: the data, or the error with its stderr.
Result<std::string> tool_output(const std::vector<std::string>& argv) {
    std::string out;
    auto run = run_streaming(argv, kReadTimeout, [&out](std::span<const std::byte> bytes) {
        out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    });
    if (run.status != 0)
        return tool_failed(argv, run.status, run.err);
    return out;
}

std::unexpected<Error> not_representable(const std::string& why) {
    return fail(Errc::unsupported, std::string(kTreeNotRepresentable) + ": " + why);
}

// The number of UTF-16 units `utf8` takes, and whether any of its characters lies beyond the
// BMP (a surrogate pair); nullopt when it is not UTF-8.
struct Utf16Length {
    std::size_t units = 0;
    bool beyond_bmp = false;
};
std::optional<Utf16Length> utf16_length(std::string_view utf8) {
    Utf16Length length;
    for (std::size_t i = 0; i < utf8.size();) {
        auto c = static_cast<unsigned char>(utf8[i]);
        std::size_t n = c < 0x80           ? 1
                        : (c >> 5) == 0x6  ? 2
                        : (c >> 4) == 0xe  ? 3
                        : (c >> 3) == 0x1e ? 4
                                           : 0;
        if (n == 0 || i + n > utf8.size())
            return std::nullopt;
        for (std::size_t k = 1; k < n; ++k)
            if ((static_cast<unsigned char>(utf8[i + k]) & 0xc0) != 0x80)
                return std::nullopt;
        length.units += n == 4 ? 2 : 1;
        length.beyond_bmp |= n == 4;
        i += n;
    }
    return length;
}

// What a file system, as its tool writes it, can name.
struct NameRules {
    std::string_view file_system;
    std::size_t max_utf16_units = 0;  // 0: no limit in UTF-16 units
    std::size_t max_bytes = 0;        // 0: no limit in bytes
    bool bmp_only = false;
    bool case_insensitive = false;  // two names differing in (ASCII) case collide
    bool top_level_files_only = false;
};

std::string ascii_lower(std::string s) {
    for (auto& c : s)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    return s;
}

// Checks every name of the tree against `rules`; also counts what the tree holds.
struct TreeSize {
    std::uint64_t file_bytes = 0;  // each file rounded up to 4 KiB
    std::uint64_t entries = 0;     // files and folders
};
Result<TreeSize> check_tree(const fs::path& source, const NameRules& rules) {
    std::error_code ec;
    if (!fs::is_directory(source, ec))
        return fail(Errc::not_found, "no source folder " + source.string());
    TreeSize size;
    std::map<fs::path, std::set<std::string>> names_in;
    fs::recursive_directory_iterator it(source, ec), end;
    if (ec)
        return fail_errno("cannot list " + source.string(), ec.value());
    for (; it != end; it.increment(ec)) {
        if (ec)
            return fail_errno("cannot list " + source.string(), ec.value());
        const auto& entry = *it;
        auto relative = fs::relative(entry.path(), source).generic_string();
        auto name = entry.path().filename().string();
        auto length = utf16_length(name);
        if (!length)
            return not_representable(relative + ": the name is not UTF-8");
        if (rules.bmp_only && length->beyond_bmp)
            return not_representable(relative + ": a character beyond the BMP (" +
                                     std::string(rules.file_system) + ")");
        if (rules.max_utf16_units && length->units > rules.max_utf16_units)
            return not_representable(relative + ": longer than " +
                                     std::to_string(rules.max_utf16_units) + " UTF-16 units (" +
                                     std::string(rules.file_system) + ")");
        if (rules.max_bytes && name.size() > rules.max_bytes)
            return not_representable(relative + ": longer than " + std::to_string(rules.max_bytes) +
                                     " bytes (" + std::string(rules.file_system) + ")");
        if (rules.case_insensitive &&
            !names_in[entry.path().parent_path()].insert(ascii_lower(name)).second)
            return not_representable(relative + ": another name differs only in case (" +
                                     std::string(rules.file_system) + ")");
        bool folder = entry.is_directory(ec);
        if (rules.top_level_files_only && folder)
            return not_representable(relative + ": a folder (ntfscp cannot create directories)");
        if (!folder && !entry.is_regular_file(ec))
            return not_representable(relative + ": neither a file nor a folder");
        ++size.entries;
        if (!folder)
            size.file_bytes += (entry.file_size(ec) + 4095) / 4096 * 4096;
    }
    return size;
}

std::uint64_t round_mib(std::uint64_t bytes) {
    return (bytes + kMiB - 1) / kMiB * kMiB;
}

// A FAT32 volume for the tree: its files in 4 KiB clusters, 4 KiB more for each entry (a
// folder's own cluster; a file's 8.3 and long-name entries, 672 bytes at most), the two FATs
// (4 bytes a cluster each, clusters as small as 512 bytes: a 64th), room to spare.
std::uint64_t fat32_size_for(const TreeSize& t) {
    std::uint64_t need = t.file_bytes + t.entries * 4096;
    return std::max(kFat32Minimum, round_mib(need + need / 8 + need / 32 + 4 * kMiB));
}

Status create_empty(const fs::path& image, std::uint64_t size) {
    std::error_code ec;
    fs::remove(image, ec);
    {
        std::ofstream out(image, std::ios::binary);
        if (!out)
            return fail_errno("cannot create " + image.string());
    }
    fs::resize_file(image, size, ec);
    if (ec)
        return fail_errno("cannot size " + image.string(), ec.value());
    return {};
}

// The top-level entries of `source`, as mcopy's sources.
std::vector<std::string> top_level(const fs::path& source) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(source))
        out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
}

Status mcopy_tree(const std::string& target, const fs::path& source) {
    auto sources = top_level(source);
    if (sources.empty())
        return {};
    // -s recursive, -Q stop at the first failure, -D o: never stop to ask (names were checked).
    std::vector<std::string> argv = {"mcopy", "-s", "-Q", "-D", "o", "-i", target};
    argv.insert(argv.end(), sources.begin(), sources.end());
    argv.push_back("::/");
    return run_tool(argv);
}

constexpr NameRules kFatRules = {.file_system = "FAT32 through mtools",
                                 .max_utf16_units = 255,
                                 .bmp_only = true,
                                 .case_insensitive = true};

void put_le32(std::array<std::uint8_t, 512>& sector, std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i)
        sector[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
}

// A sector's CHS address as an MBR entry holds it (255 heads, 63 sectors a track), the
// largest address when the cylinder does not fit.
std::array<std::uint8_t, 3> chs_of(std::uint64_t lba) {
    constexpr std::uint64_t kHeads = 255, kSectors = 63;
    std::uint64_t cylinder = lba / (kHeads * kSectors);
    std::uint64_t head = (lba / kSectors) % kHeads;
    std::uint64_t sector = lba % kSectors + 1;
    if (cylinder > 1023)
        return {0xfe, 0xff, 0xff};
    return {static_cast<std::uint8_t>(head),
            static_cast<std::uint8_t>(sector | ((cylinder >> 2) & 0xc0)),
            static_cast<std::uint8_t>(cylinder & 0xff)};
}

// The MBR of a disk with one partition of type 0x0c (FAT32 with LBA) at `start`, `count`
// sectors long. Layout (all little-endian): disk signature at 440, four 16-byte partition
// entries from 446 (status, CHS first, type, CHS last, LBA first, sector count), 0x55 0xAA at 510.
Status write_mbr(const fs::path& image, std::uint64_t start, std::uint64_t count) {
    std::array<std::uint8_t, 512> mbr{};
    put_le32(mbr, 440, 0x45584849);  // disk signature: "IHXE", for exhibit
    constexpr std::size_t kEntry = 446;
    mbr[kEntry + 0] = 0x00;  // not bootable
    auto first = chs_of(start), last = chs_of(start + count - 1);
    std::copy(first.begin(), first.end(), mbr.begin() + kEntry + 1);
    mbr[kEntry + 4] = 0x0c;  // W95 FAT32 (LBA)
    std::copy(last.begin(), last.end(), mbr.begin() + kEntry + 5);
    put_le32(mbr, kEntry + 8, static_cast<std::uint32_t>(start));
    put_le32(mbr, kEntry + 12, static_cast<std::uint32_t>(count));
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    std::fstream out(image, std::ios::binary | std::ios::in | std::ios::out);
    out.write(reinterpret_cast<const char*>(mbr.data()), mbr.size());
    if (!out)
        return fail_errno("cannot write the MBR of " + image.string());
    return {};
}

}  // namespace

Status build_fat32(const fs::path& image, const fs::path& source, std::string_view label,
                   const ImageOptions& options) {
    auto tree = check_tree(source, kFatRules);
    if (!tree)
        return std::unexpected(tree.error());
    std::uint64_t size = options.size ? options.size : fat32_size_for(*tree);
    std::error_code ec;
    fs::remove(image, ec);  // mkfs.vfat -C refuses an existing file
    if (auto s = run_tool({"mkfs.vfat", "-C", "-F", "32", "-n", std::string(label), image.string(),
                           std::to_string(size / 1024)});
        !s)
        return s;
    return mcopy_tree(image.string(), source);
}

Status build_partitioned_fat32(const fs::path& image, const fs::path& source,
                               std::string_view label, const ImageOptions& options) {
    auto tree = check_tree(source, kFatRules);
    if (!tree)
        return std::unexpected(tree.error());
    std::uint64_t partition = options.size ? options.size : fat32_size_for(*tree);
    partition = partition / 512 * 512;
    const std::uint64_t start = kPartitionStartLba * 512;
    if (auto s = create_empty(image, start + partition); !s)
        return s;
    if (auto s = write_mbr(image, kPartitionStartLba, partition / 512); !s)
        return s;
    if (auto s =
            run_tool({"mkfs.vfat", "-F", "32", "--offset", std::to_string(kPartitionStartLba), "-n",
                      std::string(label), image.string(), std::to_string(partition / 1024)});
        !s)
        return s;
    return mcopy_tree(image.string() + "@@" + std::to_string(start), source);
}

Status build_ext4(const fs::path& image, const fs::path& source, std::string_view label,
                  const ImageOptions& options) {
    auto tree = check_tree(source, {.file_system = "ext4", .max_bytes = 255});
    if (!tree)
        return std::unexpected(tree.error());
    // Files in 4 KiB blocks, a block per folder at least, inode tables, the journal (16 MiB
    // up to 1 GiB, more beyond), room to spare.
    std::uint64_t need = tree->file_bytes + tree->entries * 4096;
    std::uint64_t size =
        options.size ? options.size
                     : std::max(kExt4Minimum, round_mib(need + need / 5 + need / 16 + 20 * kMiB));
    if (auto s = create_empty(image, size); !s)
        return s;
    // -N: enough inodes for a tree of many small files, whatever the inode ratio.
    return run_tool({"mkfs.ext4", "-q", "-F", "-N", std::to_string(tree->entries + 128), "-d",
                     source.string(), "-L", std::string(label), image.string()});
}

Status build_ntfs(const fs::path& image, const fs::path& source, std::string_view label,
                  const ImageOptions& options) {
    auto tree = check_tree(
        source, {.file_system = "NTFS", .max_utf16_units = 255, .top_level_files_only = true});
    if (!tree)
        return std::unexpected(tree.error());
    // Files, a 1 KiB MFT record each, the MFT zone (an eighth of the volume), the log file.
    std::uint64_t need = tree->file_bytes + tree->entries * 1024;
    std::uint64_t size =
        options.size ? options.size : std::max(kNtfsMinimum, round_mib(need + need / 4 + 8 * kMiB));
    if (auto s = create_empty(image, size); !s)
        return s;
    if (auto s = run_tool({"mkntfs", "-q", "-F", "-f", "-L", std::string(label), image.string()});
        !s)
        return s;
    for (const auto& file : top_level(source)) {
        auto name = fs::path(file).filename().string();
        if (auto s = run_tool({"ntfscp", "-f", image.string(), file, "/" + name}); !s)
            return s;
    }
    return {};
}

Status build_iso9660(const fs::path& image, const fs::path& source, std::string_view label) {
    auto tree = check_tree(source, {.file_system = "ISO 9660 Joliet as The Sleuth Kit reads it",
                                    .max_utf16_units = 103,
                                    .bmp_only = true});
    if (!tree)
        return std::unexpected(tree.error());
    return run_tool({"genisoimage", "-quiet", "-R", "-J", "-joliet-long", "-V", std::string(label),
                     "-o", image.string(), source.string()});
}

fs::path exfat_fixture_manifest() {
    return fs::path(EXHIBIT_SOURCE_DIR) / "tests/storage/fixtures/exfat_witness.files";
}

Result<fs::path> unpack_exfat_fixture(const fs::path& folder) {
    auto packed = fs::path(EXHIBIT_SOURCE_DIR) / "tests/storage/fixtures/exfat_witness.img.gz";
    auto image = folder / "exfat_witness.img";
    std::ofstream out(image, std::ios::binary | std::ios::trunc);
    if (!out)
        return fail_errno("cannot create " + image.string());
    std::vector<std::string> argv = {"gzip", "-dc", packed.string()};
    auto run = run_streaming(argv, kReadTimeout, [&out](std::span<const std::byte> bytes) {
        out.write(reinterpret_cast<const char*>(bytes.data()),
                  static_cast<std::streamsize>(bytes.size()));
    });
    if (run.status != 0)
        return tool_failed(argv, run.status, run.err);
    out.close();
    if (!out)
        return fail_errno("cannot write " + image.string());
    return image;
}

Result<std::map<std::string, std::string>> referee_names(const fs::path& image,
                                                         std::uint64_t sector_offset) {
    std::vector<std::string> at;
    if (sector_offset)
        at = {"-o", std::to_string(sector_offset)};
    std::vector<std::string> type_argv = {"fsstat", "-t"};
    type_argv.insert(type_argv.end(), at.begin(), at.end());
    type_argv.push_back(image.string());
    auto type = tool_output(type_argv);
    if (!type)
        return std::unexpected(type.error());
    const bool ntfs = type->starts_with("ntfs");
    const bool exfat = type->starts_with("exfat");

    std::vector<std::string> argv = {"fls", "-r", "-p", "-F", "-u"};
    argv.insert(argv.end(), at.begin(), at.end());
    argv.push_back(image.string());
    auto listing = tool_output(argv);
    if (!listing)
        return std::unexpected(listing.error());
    std::map<std::string, std::string> names;
    std::istringstream lines(*listing);
    std::string line;
    while (std::getline(lines, line)) {
        // "r/r 64-128-2:\tpath": name type / metadata type, the metadata address, the path.
        auto tab = line.find('\t');
        if (tab == std::string::npos || !line.starts_with("r/r "))
            continue;  // virtual files ($MBR, $FAT1, ...: "v/v") and what is not a file
        auto inode = line.substr(4, tab - 4);
        if (inode.ends_with(':'))
            inode.pop_back();
        if (auto paren = inode.find('('); paren != std::string::npos)
            inode.erase(paren);  // "123(realloc)"
        auto path = line.substr(tab + 1);
        bool top = path.find('/') == std::string::npos;
        auto first = path.substr(0, path.find('/'));
        if (top && path.ends_with(" (Volume Label Entry)"))
            continue;
        if (ntfs && first.starts_with('$'))
            continue;
        if (exfat && top && (path == "$ALLOC_BITMAP" || path == "$UPCASE_TABLE"))
            continue;
        names[path] = inode;
    }
    return names;
}

Result<FileMap> referee_files(const fs::path& image, std::uint64_t sector_offset) {
    auto names = referee_names(image, sector_offset);
    if (!names)
        return std::unexpected(names.error());
    FileMap files;
    for (const auto& [path, inode] : *names) {
        std::vector<std::string> argv = {"icat"};
        if (sector_offset)
            argv.insert(argv.end(), {"-o", std::to_string(sector_offset)});
        argv.insert(argv.end(), {image.string(), inode});
        Sha256 hasher;
        std::uint64_t size = 0;
        auto run = run_streaming(argv, kReadTimeout, [&](std::span<const std::byte> bytes) {
            hasher.update(bytes);
            size += bytes.size();
        });
        if (run.status != 0)
            return std::unexpected(
                tool_failed(argv, run.status, run.err).error().with_context(path));
        files[path] = {size, to_hex(hasher.finish())};
    }
    return files;
}

Result<FileMap> files_of_tree(const fs::path& root) {
    FileMap files;
    std::error_code ec;
    fs::recursive_directory_iterator it(root, ec), end;
    if (ec)
        return fail_errno("cannot list " + root.string(), ec.value());
    for (; it != end; it.increment(ec)) {
        if (ec)
            return fail_errno("cannot list " + root.string(), ec.value());
        if (!it->is_regular_file(ec) || it->is_symlink(ec))
            continue;
        std::uint64_t size = 0;
        auto digest = Sha256::of_file(it->path(), &size);
        if (!digest)
            return std::unexpected(digest.error());
        files[fs::relative(it->path(), root).generic_string()] = {size, to_hex(*digest)};
    }
    return files;
}

Result<FileMap> referee_files_mtools(const fs::path& image, const fs::path& scratch,
                                     std::uint64_t byte_offset) {
    std::error_code ec;
    auto out = scratch / "mtools-referee";
    fs::remove_all(out, ec);
    fs::create_directories(out, ec);
    if (ec)
        return fail_errno("cannot create " + out.string(), ec.value());
    auto target = image.string();
    if (byte_offset)
        target += "@@" + std::to_string(byte_offset);
    if (auto s = run_tool({"mcopy", "-s", "-n", "-i", target, "::/", out.string()}); !s)
        return std::unexpected(s.error());
    return files_of_tree(out);
}

Result<FileMap> read_manifest(const fs::path& manifest) {
    std::ifstream in(manifest);
    if (!in)
        return fail_errno("cannot open " + manifest.string());
    FileMap files;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line.starts_with('#'))
            continue;
        std::istringstream fields(line);
        std::string sha256;
        std::uint64_t size = 0;
        if (!(fields >> sha256 >> size) || sha256.size() != 64)
            return fail(Errc::corrupt, manifest.string() + ": not \"SHA256 SIZE PATH\": " + line);
        std::string path;
        std::getline(fields >> std::ws, path);
        files[path] = {size, sha256};
    }
    return files;
}

std::vector<std::string> write_cctv_export(const fs::path& root, std::string_view folder,
                                           unsigned seed) {
    const std::string f(folder);
    const std::vector<TreeFile> footage = {
        {f + "/CH01_20261130_2200.dav", 300'000},
        {f + "/CH02_20261130_2200.264", 200'000},
        {f + "/CH01_20261130_2200.idx", 4096},
        {f + "/Player.exe", 120'000},
    };
    write_tree(root, footage, seed);
    std::vector<std::string> paths;
    for (const auto& file : footage)
        paths.push_back(file.path);
    const std::string readme = f + "/readme.txt";
    std::ofstream(root / readme, std::ios::binary)
        << "Exported 30/11/2026 22:00-22:15, cameras 1 and 2.\r\n"
           "Play the files with Player.exe.\r\n";
    paths.push_back(readme);
    return paths;
}

std::vector<std::string> write_camera_and_documents(const fs::path& root, unsigned seed) {
    const std::vector<TreeFile> files = {
        {"DCIM/100MEDIA/IMG_0001.JPG", 150'000},
        {"DCIM/100MEDIA/IMG_0002.JPG", 81'234},
        {"DCIM/100MEDIA/VID_0003.MP4", 400'000},
        {"Documents/Rechnung März 2026 – Überweisung an das Café am Zürichsee (Kopie).pdf", 20'000},
        {"Documents/notes.docx", 12'345},
        {"Documents/empty.txt", 0},
        {"Music/voice memo 01.mp3", 50'000},
    };
    write_tree(root, files, seed);
    std::vector<std::string> paths;
    for (const auto& file : files)
        paths.push_back(file.path);
    return paths;
}

std::vector<std::string> write_many_files(const fs::path& root, std::string_view folder,
                                          std::size_t count, std::size_t size, unsigned seed) {
    std::vector<std::string> paths;
    paths.reserve(count);
    for (std::size_t i = 1; i <= count; ++i) {
        auto number = std::to_string(i);  // five digits keep the name 8.3 up to 99,999
        number.insert(0, number.size() < 5 ? 5 - number.size() : 0, '0');
        paths.push_back(std::string(folder) + "/DSC" + number + ".JPG");
        write_random_file(root / paths.back(), size, seed++);
    }
    return paths;
}

}  // namespace exhibit::testing
