#include "tests/support/fat_hostile.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <functional>
#include <optional>
#include <vector>

#include "common/unique_fd.hpp"
#include "common/utf8.hpp"

namespace exhibit::testing {

namespace fs = std::filesystem;

namespace {

constexpr std::uint32_t kEndOfChain = 0x0FFFFFF8;  // FAT32 entries from here on end a chain
constexpr std::uint32_t kEntryMask = 0x0FFFFFFF;   // the upper 4 bits of an entry are reserved
constexpr std::size_t kDirEntry = 32;
constexpr std::uint8_t kAttrDirectory = 0x10;
constexpr std::uint8_t kAttrLongName = 0x0F;
constexpr std::size_t kUnitsPerLfn = 13;
// Where the 13 UTF-16 units of an LFN entry lie: LDIR_Name1 (5), LDIR_Name2 (6), LDIR_Name3 (2).
constexpr std::array<std::size_t, kUnitsPerLfn> kLfnUnitOffsets = {1,  3,  5,  7,  9,  14, 16,
                                                                   18, 20, 22, 24, 28, 30};

std::uint32_t le16(const std::uint8_t* p) {
    return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8;
}
std::uint32_t le32(const std::uint8_t* p) {
    return le16(p) | le16(p + 2) << 16;
}

// A directory entry found by walking: where its 8.3 entry and its LFN entries lie.
struct DirEntry {
    std::u16string long_name;
    std::string short_name;  // "IMG_0001.JPG"
    std::uint8_t attributes = 0;
    std::uint32_t first_cluster = 0;
    std::uint32_t size = 0;
    std::uint64_t offset = 0;                // of the 8.3 entry in the image
    std::vector<std::uint64_t> lfn_offsets;  // of LDIR_Ord 1, 2, ... (the name's first part first)
    bool directory() const { return (attributes & kAttrDirectory) != 0; }
};

std::string to_utf8(const std::u16string& units) {
    std::string out;
    for (std::size_t i = 0; i < units.size(); ++i) {
        char32_t u = units[i];
        if (u >= 0xD800 && u < 0xDC00 && i + 1 < units.size() && units[i + 1] >= 0xDC00 &&
            units[i + 1] < 0xE000) {
            append_utf8(out, 0x10000 + ((u - 0xD800) << 10) + (units[i + 1] - 0xDC00));
            ++i;
        } else if (u >= 0xD800 && u < 0xE000) {
            append_utf8(out, 0xFFFD);  // unpaired
        } else {
            append_utf8(out, u);
        }
    }
    return out;
}

std::string ascii_upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'a' && c <= 'z')
            c = static_cast<char>(c - 'a' + 'A');
    return out;
}

class FatImage {
  public:
    static Result<FatImage> open(const fs::path& image) {
        FatImage f;
        f.fd_.reset(::open(image.c_str(), O_RDWR | O_CLOEXEC));
        if (!f.fd_)
            return fail_errno("cannot open " + image.string());
        auto g = f.read_geometry();
        if (!g)
            return std::unexpected(g.error().with_context(image.string()));
        f.g_ = *g;
        return f;
    }

    const FatGeometry& geometry() const { return g_; }

  private:
    FatImage() = default;

    Result<FatGeometry> read_geometry() {
        std::array<std::uint8_t, 512> b{};
        if (auto s = read(0, b.data(), b.size()); !s)
            return std::unexpected(s.error());
        FatGeometry g;
        g.bytes_per_sector = le16(&b[11]);
        g.sectors_per_cluster = b[13];
        g.reserved_sectors = le16(&b[14]);
        g.fat_count = b[16];
        g.total_sectors = le16(&b[19]) ? le16(&b[19]) : le32(&b[32]);
        const auto fat16_sectors = le16(&b[22]);  // BPB_FATSz16: 0 on FAT32
        g.fat_sectors = le32(&b[36]);
        g.root_cluster = le32(&b[44]);
        auto power_of_two = [](std::uint32_t v) { return v && (v & (v - 1)) == 0; };
        if (b[510] != 0x55 || b[511] != 0xAA || !power_of_two(g.bytes_per_sector) ||
            g.bytes_per_sector < 512 || g.bytes_per_sector > 4096 ||
            !power_of_two(g.sectors_per_cluster) || g.fat_count == 0 || g.reserved_sectors == 0)
            return fail(Errc::unsupported, "not a FAT boot sector");
        if (fat16_sectors != 0 || g.fat_sectors == 0 || g.root_cluster < 2)
            return fail(Errc::unsupported, "not FAT32");
        if (g.fat_offset(g.fat_count) >= g.volume_bytes())
            return fail(Errc::unsupported, "FATs larger than the volume");
        return g;
    }

  public:
    Status read(std::uint64_t offset, void* data, std::size_t size) {
        auto n = ::pread(fd_.get(), data, size, static_cast<off_t>(offset));
        if (n < 0)
            return fail_errno("cannot read the image");
        if (static_cast<std::size_t>(n) != size)
            return fail(Errc::corrupt, "the image ends at " + std::to_string(offset + n));
        return {};
    }
    Status write(std::uint64_t offset, const void* data, std::size_t size) {
        auto n = ::pwrite(fd_.get(), data, size, static_cast<off_t>(offset));
        if (n < 0 || static_cast<std::size_t>(n) != size)
            return fail_errno("cannot write the image");
        return {};
    }

    Result<std::uint32_t> fat_entry(std::uint32_t cluster) {
        std::uint8_t b[4];
        if (auto s = read(g_.fat_offset(0) + std::uint64_t{cluster} * 4, b, 4); !s)
            return std::unexpected(s.error());
        return le32(b) & kEntryMask;
    }
    // Sets the entry in every FAT copy, its reserved upper bits kept.
    Status set_fat_entry(std::uint32_t cluster, std::uint32_t value) {
        for (std::uint32_t copy = 0; copy < g_.fat_count; ++copy) {
            auto at = g_.fat_offset(copy) + std::uint64_t{cluster} * 4;
            std::uint8_t b[4];
            if (auto s = read(at, b, 4); !s)
                return s;
            auto v = (le32(b) & ~kEntryMask) | (value & kEntryMask);
            for (int i = 0; i < 4; ++i)
                b[i] = static_cast<std::uint8_t>(v >> (8 * i));
            if (auto s = write(at, b, 4); !s)
                return s;
        }
        return {};
    }

    // The clusters of a chain, first to last; an error on a loop or an entry out of range.
    Result<std::vector<std::uint32_t>> chain(std::uint32_t first) {
        std::vector<std::uint32_t> clusters;
        const auto last_valid = g_.cluster_count() + 1;
        for (auto c = first; c < kEndOfChain;) {
            if (c < 2 || c > last_valid)
                return fail(Errc::corrupt, "cluster " + std::to_string(c) + " out of range");
            if (clusters.size() > g_.cluster_count())
                return fail(Errc::corrupt, "the chain from " + std::to_string(first) + " loops");
            clusters.push_back(c);
            auto next = fat_entry(c);
            if (!next)
                return std::unexpected(next.error());
            c = *next;
        }
        return clusters;
    }

    Result<std::vector<DirEntry>> list(std::uint32_t first_cluster) {
        auto clusters = chain(first_cluster);
        if (!clusters)
            return std::unexpected(clusters.error());
        std::vector<DirEntry> entries;
        std::vector<std::pair<std::uint64_t, std::array<std::uint8_t, kDirEntry>>> lfn;
        std::vector<std::uint8_t> data(g_.cluster_bytes());
        for (auto c : *clusters) {
            if (auto s = read(g_.cluster_offset(c), data.data(), data.size()); !s)
                return std::unexpected(s.error());
            for (std::size_t at = 0; at + kDirEntry <= data.size(); at += kDirEntry) {
                const auto* e = &data[at];
                const auto offset = g_.cluster_offset(c) + at;
                if (e[0] == 0x00)
                    return entries;  // DIR_Name[0] == 0: no entries follow
                if (e[0] == 0xE5) {  // a deleted entry
                    lfn.clear();
                    continue;
                }
                if ((e[11] & 0x3F) == kAttrLongName) {
                    std::array<std::uint8_t, kDirEntry> copy;
                    std::copy(e, e + kDirEntry, copy.begin());
                    lfn.emplace_back(offset, copy);
                    continue;
                }
                entries.push_back(short_entry(e, offset, lfn));
                lfn.clear();
            }
        }
        return entries;
    }

    // The entry at `path`, and the first cluster of the folder holding it.
    Result<std::pair<DirEntry, std::uint32_t>> find(std::string_view path) {
        std::uint32_t folder = g_.root_cluster;
        std::optional<DirEntry> found;
        while (!path.empty()) {
            auto slash = path.find('/');
            auto part = path.substr(0, slash);
            path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
            if (found) {
                if (!found->directory())
                    return fail(Errc::not_found, found->short_name + " is not a folder");
                folder = found->first_cluster ? found->first_cluster : g_.root_cluster;
            }
            auto entries = list(folder);
            if (!entries)
                return std::unexpected(entries.error());
            found.reset();
            for (auto& e : *entries)
                if (to_utf8(e.long_name) == part || e.short_name == ascii_upper(part))
                    found = e;
            if (!found)
                return fail(Errc::not_found, "no entry " + std::string(part));
        }
        if (!found)
            return fail(Errc::invalid_argument, "the root has no entry of its own");
        return std::pair{*found, folder};
    }

  private:
    // An 8.3 entry (DIR_Name 0-10, DIR_Attr 11, DIR_FstClusHI 20, DIR_FstClusLO 26,
    // DIR_FileSize 28) and the LFN entries before it (last part first on disk).
    static DirEntry short_entry(
        const std::uint8_t* e, std::uint64_t offset,
        const std::vector<std::pair<std::uint64_t, std::array<std::uint8_t, kDirEntry>>>& lfn) {
        DirEntry d;
        std::string base(reinterpret_cast<const char*>(e), 8),
            ext(reinterpret_cast<const char*>(e + 8), 3);
        while (!base.empty() && base.back() == ' ')
            base.pop_back();
        while (!ext.empty() && ext.back() == ' ')
            ext.pop_back();
        d.short_name = ext.empty() ? base : base + "." + ext;
        d.attributes = e[11];
        d.first_cluster = le16(e + 20) << 16 | le16(e + 26);
        d.size = le32(e + 28);
        d.offset = offset;
        for (auto it = lfn.rbegin(); it != lfn.rend(); ++it) {
            d.lfn_offsets.push_back(it->first);
            for (auto at : kLfnUnitOffsets) {
                auto unit = static_cast<char16_t>(le16(&it->second[at]));
                if (unit == 0x0000)
                    return d;
                d.long_name += unit;
            }
        }
        return d;
    }

    UniqueFd fd_;
    FatGeometry g_;
};

Status write_le32(FatImage& f, std::uint64_t at, std::uint32_t v) {
    std::uint8_t b[4];
    for (int i = 0; i < 4; ++i)
        b[i] = static_cast<std::uint8_t>(v >> (8 * i));
    return f.write(at, b, 4);
}

Status write_le16(FatImage& f, std::uint64_t at, std::uint32_t v) {
    std::uint8_t b[2] = {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8)};
    return f.write(at, b, 2);
}

Result<std::pair<FatImage, DirEntry>> open_entry(const fs::path& image, std::string_view path,
                                                 bool want_directory,
                                                 std::uint32_t* parent = nullptr) {
    auto f = FatImage::open(image);
    if (!f)
        return std::unexpected(f.error());
    auto found = f->find(path);
    if (!found)
        return std::unexpected(found.error().with_context(image.string()));
    if (found->first.directory() != want_directory)
        return fail(Errc::invalid_argument,
                    std::string(path) + (want_directory ? " is not a folder" : " is a folder"));
    if (parent)
        *parent = found->second;
    return std::pair{std::move(*f), found->first};
}

// Rewrites the name units of a file's LFN entries (LDIR_Name1/2/3) with `name`, ended by
// 0x0000 and padded with 0xFFFF as the specification has it.
Result<std::string> rewrite_long_name(const fs::path& image, std::string_view path,
                                      const std::function<std::u16string(std::u16string)>& change) {
    auto opened = open_entry(image, path, false);
    if (!opened)
        return std::unexpected(opened.error());
    auto& [f, entry] = *opened;
    if (entry.lfn_offsets.empty() || entry.long_name.empty())
        return fail(Errc::invalid_argument, std::string(path) + " has no long name");
    auto name = change(entry.long_name);
    const auto capacity = entry.lfn_offsets.size() * kUnitsPerLfn;
    if (name.empty() || name.size() > capacity)
        return fail(Errc::invalid_argument,
                    std::string(path) + ": the new name does not fit its long-name entries");
    for (std::size_t i = 0; i < capacity; ++i) {
        std::uint32_t unit = i < name.size() ? name[i] : i == name.size() ? 0x0000 : 0xFFFF;
        auto at = entry.lfn_offsets[i / kUnitsPerLfn] + kLfnUnitOffsets[i % kUnitsPerLfn];
        if (auto s = write_le16(f, at, unit); !s)
            return std::unexpected(s.error());
    }
    return to_utf8(name);
}

}  // namespace

Result<FatGeometry> read_fat_geometry(const fs::path& image) {
    auto f = FatImage::open(image);
    if (!f)
        return std::unexpected(f.error());
    return f->geometry();
}

Status make_cluster_loop(const fs::path& image, std::string_view folder) {
    auto opened = open_entry(image, folder, true);
    if (!opened)
        return std::unexpected(opened.error());
    auto& [f, entry] = *opened;
    auto clusters = f.chain(entry.first_cluster);
    if (!clusters)
        return std::unexpected(clusters.error());
    // The FAT entry of the last cluster: end-of-chain -> the first cluster.
    return f.set_fat_entry(clusters->back(), entry.first_cluster);
}

Status make_directory_loop(const fs::path& image, std::string_view folder) {
    std::uint32_t parent = 0;
    auto opened = open_entry(image, folder, true, &parent);
    if (!opened)
        return std::unexpected(opened.error());
    auto& [f, entry] = *opened;
    // DIR_FstClusHI (offset 20) and DIR_FstClusLO (offset 26) of the folder's entry.
    if (auto s = write_le16(f, entry.offset + 20, parent >> 16); !s)
        return s;
    return write_le16(f, entry.offset + 26, parent & 0xFFFF);
}

Status make_lying_size(const fs::path& image, std::string_view file, std::uint32_t size) {
    auto opened = open_entry(image, file, false);
    if (!opened)
        return std::unexpected(opened.error());
    auto& [f, entry] = *opened;
    // DIR_FileSize (offset 28).
    return write_le32(f, entry.offset + 28, size);
}

Status make_oversized_file(const fs::path& image, std::string_view file) {
    constexpr std::uint32_t kLargest = 0xFFFFFFFF;
    auto geometry = read_fat_geometry(image);
    if (!geometry)
        return std::unexpected(geometry.error());
    if (geometry->volume_bytes() >= kLargest)
        return fail(Errc::invalid_argument, "the volume is 4 GiB or more: no size exceeds it");
    return make_lying_size(image, file, kLargest);
}

Result<std::string> make_name_with_slash(const fs::path& image, std::string_view file) {
    return rewrite_long_name(image, file, [](std::u16string name) {
        name[name.size() / 2] = u'/';
        return name;
    });
}

Result<std::string> make_name_with_lone_surrogate(const fs::path& image, std::string_view file) {
    return rewrite_long_name(image, file, [](std::u16string name) {
        name[0] = char16_t{0xD800};
        return name;
    });
}

Result<std::string> make_name_dot_dot(const fs::path& image, std::string_view file) {
    return rewrite_long_name(image, file, [](std::u16string) { return std::u16string(u".."); });
}

Status truncate_image(const fs::path& image) {
    std::error_code ec;
    auto size = fs::file_size(image, ec);
    if (!ec)
        fs::resize_file(image, size / 2, ec);
    if (ec)
        return fail_errno("cannot cut " + image.string(), ec.value());
    return {};
}

}  // namespace exhibit::testing
