#include "drivers/storage/storage_extractor.hpp"

#include <tsk/libtsk.h>

#include <cctype>
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "common/c_handle.hpp"
#include "common/clock.hpp"
#include "drivers/shared_storage.hpp"

namespace exhibit::storage {

using drivers::Artefact;
using drivers::Category;

namespace {

using DirPtr = CHandle<TSK_FS_DIR, tsk_fs_dir_close>;
using FilePtr = CHandle<TSK_FS_FILE, tsk_fs_file_close>;

constexpr std::size_t kChunk = 1 << 20;

std::optional<std::int64_t> mtime_of(const TSK_FS_META& meta) {
    if (meta.mtime == 0)
        return std::nullopt;
    return device_time_ms(static_cast<std::int64_t>(meta.mtime), meta.mtime_nano);
}

// Entries of the file system's own, listed at its top like files: NTFS's $MFT, $Extend and
// the rest, exFAT's $ALLOC_BITMAP and $UPCASE_TABLE, libtsk's $OrphanFiles. No user file at
// the top of such a file system can have a name starting with '$' and be one of these.
bool metadata_entry(const TSK_FS_INFO& fs, std::string_view name) {
    return name.starts_with('$') &&
           (TSK_FS_TYPE_ISNTFS(fs.ftype) || fs.ftype == TSK_FS_TYPE_EXFAT ||
            name == "$OrphanFiles");
}

// A regular file found by the walk, before the scope chooses.
struct Found {
    std::string top;  // its folder at the file system's top ("" for a file at the top)
    std::string name;
    StorageFile file;
};

std::string_view extension_of(std::string_view name) {
    auto dot = name.rfind('.');
    return dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
}

}  // namespace

bool is_cctv_container(std::string_view name) {
    std::string ext(extension_of(name));
    for (auto& c : ext)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    // Dahua (.dav), raw H.264/H.265 streams (.264, .h264, .265, .h265), Geovision (.g64,
    // .g64x), and the generic DVR exports (.dvr).
    for (std::string_view e : {"dav", "264", "h264", "265", "h265", "g64", "g64x", "dvr"})
        if (ext == e)
            return true;
    return false;
}

namespace {

// The most bytes a file or folder on `fs` can hold: the file system's own size. A record that
// states more is damaged or made to hurt: libtsk maps such a record block by block, in time
// that grows with the square of the blocks (libtsk 4.11.1, tsk_fs_attr_append_run; a 36 KB
// ext2 image kept its reader busy for minutes; found by the storage_image fuzz target), so it
// is never opened or read.
std::uint64_t volume_bytes(const TSK_FS_INFO& fs) {
    std::uint64_t bytes = 0;
    if (__builtin_mul_overflow(static_cast<std::uint64_t>(fs.block_count),
                               static_cast<std::uint64_t>(fs.block_size), &bytes))
        return UINT64_MAX;
    return bytes;
}

std::optional<std::uint64_t> oversized(const TSK_FS_INFO& fs, const TSK_FS_META& meta) {
    const auto size = static_cast<std::uint64_t>(std::max<TSK_OFF_T>(meta.size, 0));
    if (size > volume_bytes(fs))
        return size;
    return std::nullopt;
}

}  // namespace

struct StorageExtractor::Walk {
    const drivers::Scope* scope = nullptr;
    const SkipHandler* on_skip = nullptr;
    std::size_t index = 0;  // the file system's
    const FileSystem* file_system = nullptr;
    std::set<std::uint64_t> folders;  // walked in this file system, by inode
    std::size_t seen = 0;
    std::vector<Found> found;

    std::string path(const std::string& relative) const {
        return "/" + file_system->name + relative;
    }

    void skip(std::string_view name, const std::string& relative, std::optional<std::uint64_t> size,
              Errc code, std::string why) const {
        Artefact a{.category = drivers::classify_file(name).value_or(Category::documents),
                   .source_path = path(relative),
                   .declared_size = size};
        (*on_skip)(a, Error{code, std::move(why), 0});
    }

    // A folder whose record states more than its file system holds (oversized()): not
    // opened, and none of its files taken.
    void skip_oversized_folder(const std::string& relative, std::uint64_t size) const {
        skip("", relative, std::nullopt, Errc::corrupt,
             fmt::format("folder {} states {} bytes, more than its file system holds ({}), so "
                         "none of its files were taken",
                         path(relative.empty() ? "/" : relative), size,
                         volume_bytes(*file_system->fs)));
    }
};

void StorageExtractor::describe(drivers::DeviceInfo& info) {
    auto& p = info.properties;
    auto& disk = disk_.disk();
    p["storage.capacity"] = std::to_string(disk.size());
    p["storage.sector_size"] = std::to_string(disk.sector_size());
    p["storage.write_block"] = disk.write_block();
    p["storage.partition_table"] =
        disk_.partition_table().empty() ? "none" : disk_.partition_table();
    for (const auto& f : disk_.file_systems()) {
        const auto key = "storage." + f.name;
        p[key + ".type"] = f.type;
        p[key + ".offset"] = std::to_string(f.offset);
        p[key + ".serial"] = f.serial;
        if (!f.partition.empty())
            p[key + ".partition"] = f.partition;
        if (!f.label.empty())
            p[key + ".label"] = f.label;
    }
}

Status StorageExtractor::walk(Walk& w, std::uint64_t folder, const std::string& relative,
                              std::size_t depth) {
    TSK_FS_INFO* fs = w.file_system->fs;
    auto& disk = disk_.disk();
    // A subfolder's record is checked where it is listed (below); the top folder's here.
    if (depth == 0) {
        if (FilePtr self(tsk_fs_file_open_meta(fs, nullptr, folder)); self && self->meta) {
            if (auto size = oversized(*fs, *self->meta)) {
                w.skip_oversized_folder(relative, *size);
                return {};
            }
        } else {
            tsk_error_reset();  // opening the folder below says why
        }
    }
    DirPtr dir(tsk_fs_dir_open_meta(fs, folder));
    if (!dir) {
        auto why = tsk_error_text();
        if (disk.interrupted())
            return fail(Errc::cancelled, "the extraction was stopped");
        if (disk.gone())
            return fail(Errc::io, std::string(drivers::kDeviceDisconnected));
        // One damaged folder: its files are not taken, and the record says which and why.
        w.skip("", relative, std::nullopt, Errc::corrupt,
               fmt::format("folder {} could not be read, so none of its files were taken: {}",
                           w.path(relative.empty() ? "/" : relative), why));
        return {};
    }
    const std::size_t n = tsk_fs_dir_getsize(dir.get());
    for (std::size_t i = 0; i < n; ++i) {
        if (disk.interrupted())
            return fail(Errc::cancelled, "the extraction was stopped");
        if (++w.seen > limits_.max_files)
            return fail(Errc::protocol,
                        fmt::format("{} lists more than {} entries", w.file_system->name,
                                    limits_.max_files));
        FilePtr f(tsk_fs_dir_get(dir.get(), i));
        if (!f || !f->name) {
            tsk_error_reset();
            continue;
        }
        const TSK_FS_NAME& entry = *f->name;
        // Deleted names are not walked: logical extraction only.
        if (!(entry.flags & TSK_FS_NAME_FLAG_ALLOC))
            continue;
        const std::string name = entry.name ? entry.name : "";
        const TSK_FS_META* meta = f->meta;
        const bool is_folder = meta ? meta->type == TSK_FS_META_TYPE_DIR
                                    : entry.type == TSK_FS_NAME_TYPE_DIR;
        const bool is_file = meta ? meta->type == TSK_FS_META_TYPE_REG
                                  : entry.type == TSK_FS_NAME_TYPE_REG;
        // A folder's links to itself and its parent; a *file* with such a name is hostile
        // and goes on to be skipped with the reason below.
        if ((name == "." || name == "..") && is_folder)
            continue;
        if (depth == 0) {
            if (metadata_entry(*fs, name))
                continue;
            if (name.ends_with(kLabelSuffix))
                continue;  // the volume label (FileSystem::label)
        }
        if (meta && (meta->type == TSK_FS_META_TYPE_VIRT || meta->type == TSK_FS_META_TYPE_VIRT_DIR))
            continue;
        if (!is_folder && !is_file)
            continue;  // links, devices, sockets: not files of the owner's to take
        const std::string path = relative + "/" + name;
        if (auto why = drivers::unusable_name(name)) {
            w.skip(name, path, meta ? std::optional<std::uint64_t>(meta->size) : std::nullopt,
                   Errc::protocol,
                   fmt::format("the file system lists {} in {}", *why,
                               w.path(relative.empty() ? "/" : relative)));
            continue;
        }
        if (!meta) {
            if (is_file && drivers::classify_file(name) &&
                w.scope->categories.contains(*drivers::classify_file(name)))
                w.skip(name, path, std::nullopt, Errc::corrupt,
                       fmt::format("the file system's record of {} could not be read: {}",
                                   w.path(path), tsk_error_text()));
            else
                tsk_error_reset();
            continue;
        }
        if (is_folder) {
            if (!w.folders.insert(meta->addr).second) {
                w.skip(name, path, std::nullopt, Errc::protocol,
                       fmt::format("folder {} is listed again inside itself or its own "
                                   "subfolders (a loop in the file system)",
                                   w.path(path)));
                continue;
            }
            if (depth + 1 > limits_.max_depth) {
                w.skip(name, path, std::nullopt, Errc::protocol,
                       fmt::format("{} is nested deeper than {} folders", w.path(path),
                                   limits_.max_depth));
                continue;
            }
            if (auto size = oversized(*fs, *meta)) {
                w.skip_oversized_folder(path, *size);
                continue;
            }
            if (auto s = walk(w, meta->addr, path, depth + 1); !s)
                return s;
            continue;
        }
        if (auto size = oversized(*fs, *meta)) {
            w.skip(name, path, size, Errc::corrupt,
                   fmt::format("{} states {} bytes, more than its file system holds ({}): not "
                               "taken",
                               w.path(path), *size, volume_bytes(*fs)));
            continue;
        }
        const auto slash = path.find('/', 1);
        w.found.push_back(
            {.top = depth == 0 ? std::string() : path.substr(1, slash - 1),
             .name = name,
             .file = {.file_system = w.index,
                      .inode = meta->addr,
                      .path = w.path(path),
                      .size = static_cast<std::uint64_t>(std::max<TSK_OFF_T>(meta->size, 0)),
                      .mtime_ms = mtime_of(*meta)}});
    }
    return {};
}

Result<std::vector<StorageFile>> StorageExtractor::enumerate(const drivers::Scope& scope,
                                                             const SkipHandler& on_skip) {
    std::vector<StorageFile> files;
    bool any_files = std::ranges::any_of(scope.categories, [](Category c) {
        return c != Category::disk_image &&
               std::ranges::find(kCategories, c) != std::end(kCategories);
    });
    if (!any_files)
        return files;
    const bool exports = scope.categories.contains(Category::cctv_export);
    auto& systems = disk_.file_systems();
    for (std::size_t i = 0; i < systems.size(); ++i) {
        Walk w{.scope = &scope, .on_skip = &on_skip, .index = i, .file_system = &systems[i]};
        w.folders.insert(systems[i].fs->root_inum);
        if (auto s = walk(w, systems[i].fs->root_inum, "", 0); !s)
            return std::unexpected(s.error());
        // The folders at the top holding a CCTV container: each an export ("": the whole
        // file system is one).
        std::set<std::string> export_tops;
        if (exports)
            for (const auto& f : w.found)
                if (is_cctv_container(f.name))
                    export_tops.insert(f.top);
        const bool all_export = export_tops.contains("");
        for (auto& f : w.found) {
            if (all_export || export_tops.contains(f.top)) {
                f.file.category = Category::cctv_export;  // whole: any name, any date
            } else {
                auto category = drivers::classify_file(f.name);
                if (!category || !scope.categories.contains(*category) ||
                    !scope.includes_time(f.file.mtime_ms))
                    continue;
                f.file.category = *category;
            }
            files.push_back(std::move(f.file));
        }
    }
    return files;
}

Result<drivers::Preview> StorageExtractor::preview(const drivers::Scope& scope) {
    drivers::Preview preview;
    auto files = enumerate(scope, [](const Artefact&, const Error&) {});
    if (!files)
        return std::unexpected(files.error());
    drivers::count_files(preview, *files);
    if (scope.categories.contains(Category::disk_image))
        preview[Category::disk_image] = {.count = 1, .bytes = disk_.disk().size()};
    return preview;
}

Status StorageExtractor::copy(const StorageFile& f, drivers::ArtefactSink& sink) {
    auto& disk = disk_.disk();
    Artefact a{.category = f.category,
               .source_path = f.path,
               .declared_size = f.size,
               .mtime_ms = f.mtime_ms};
    auto writer = sink.begin(a);
    if (!writer)
        return std::unexpected(writer.error());
    FilePtr file(tsk_fs_file_open_meta(disk_.file_systems()[f.file_system].fs, nullptr, f.inode));
    std::uint64_t received = 0;
    std::optional<Error> lost;  // the disk's side failed: the item ends incomplete
    if (!file)
        lost = Error{Errc::corrupt,
                     fmt::format("the file system's record could not be read: {}",
                                 tsk_error_text()),
                     0};
    std::vector<char> buffer(kChunk);
    while (!lost && received < f.size) {
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, f.size - received));
        ssize_t n = tsk_fs_file_read(file.get(), static_cast<TSK_OFF_T>(received), buffer.data(),
                                     want, TSK_FS_FILE_READ_FLAG_NONE);
        if (n <= 0) {
            auto why = tsk_error_text();
            if (disk.interrupted())
                lost = Error{Errc::cancelled, "the extraction was stopped", 0};
            else if (disk.gone())
                lost = Error{Errc::io, std::string(drivers::kDeviceDisconnected), 0};
            else
                lost = Error{Errc::corrupt,
                             fmt::format("the file system could not give its bytes past byte {} "
                                         "(a damaged or inconsistent record): {}",
                                         received, why.empty() ? "no more data" : why),
                             0};
            break;
        }
        auto s = (*writer)->append(
            {reinterpret_cast<const std::byte*>(buffer.data()), static_cast<std::size_t>(n)});
        if (!s) {
            (void)(*writer)->finish_incomplete(s.error().describe());
            return s;  // the kiosk's side failed: the extraction ends
        }
        received += static_cast<std::uint64_t>(n);
    }
    if (!lost)
        return (*writer)->finish();
    if (auto s = (*writer)->finish_incomplete(
            fmt::format("{} after {} of {} bytes", lost->describe(), received, f.size));
        !s)
        return s;
    if (lost->code == Errc::cancelled || lost->code == Errc::io)
        return std::unexpected(*lost);
    return {};
}

Status StorageExtractor::copy_disk(drivers::ArtefactSink& sink) {
    auto& disk = disk_.disk();
    auto writer = sink.begin({.category = Category::disk_image,
                              .source_path = std::string(kDiskImagePath),
                              .declared_size = disk.size()});
    if (!writer)
        return std::unexpected(writer.error());
    std::vector<std::byte> buffer(4 * kChunk);
    std::uint64_t received = 0;
    while (received < disk.size()) {
        auto n = disk.read(received, buffer);
        if (!n || *n == 0) {
            Error why = n ? Error{Errc::io, std::string(drivers::kDeviceDisconnected), 0}
                          : n.error();
            if (auto s = (*writer)->finish_incomplete(fmt::format(
                    "{} after {} of {} bytes", why.describe(), received, disk.size()));
                !s)
                return s;
            return std::unexpected(why);
        }
        if (auto s = (*writer)->append({buffer.data(), *n}); !s) {
            (void)(*writer)->finish_incomplete(s.error().describe());
            return s;
        }
        received += *n;
    }
    return (*writer)->finish();
}

Status StorageExtractor::extract(const drivers::Scope& scope, drivers::ArtefactSink& sink) {
    auto files = enumerate(scope, [&](const Artefact& a, const Error& e) { sink.skipped(a, e); });
    if (!files)
        return std::unexpected(files.error());
    const bool image = scope.categories.contains(Category::disk_image);
    std::uint64_t bytes = image ? disk_.disk().size() : 0;
    for (const auto& f : *files)
        bytes += f.size;
    sink.planned(files->size() + (image ? 1 : 0), bytes);
    for (const auto& f : *files) {
        if (sink.stop_requested() || disk_.disk().interrupted())
            return fail(Errc::cancelled, "the extraction was cancelled");
        if (auto s = copy(f, sink); !s)
            return s;
    }
    if (image) {
        if (sink.stop_requested() || disk_.disk().interrupted())
            return fail(Errc::cancelled, "the extraction was cancelled");
        return copy_disk(sink);
    }
    return {};
}

}  // namespace exhibit::storage
