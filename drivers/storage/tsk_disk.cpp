#include "drivers/storage/tsk_disk.hpp"

#include <tsk/libtsk.h>

#include <cstdio>
#include <new>

#include <fmt/format.h>

#include "drivers/driver.hpp"

namespace exhibit::storage {

namespace {

// libtsk's external image: its own TSK_IMG_INFO first (libtsk casts to it), then ours.
struct ExternalImage {
    TSK_IMG_INFO info;
    Disk* disk;
};

ssize_t read_image(TSK_IMG_INFO* img, TSK_OFF_T offset, char* buffer, size_t length) {
    auto* image = reinterpret_cast<ExternalImage*>(img);
    if (offset < 0) {
        tsk_error_reset();
        tsk_error_set_errno(TSK_ERR_IMG_READ_OFF);
        tsk_error_set_errstr("negative offset %lld", static_cast<long long>(offset));
        return -1;
    }
    auto read = image->disk->read(static_cast<std::uint64_t>(offset),
                                  {reinterpret_cast<std::byte*>(buffer), length});
    if (!read) {
        tsk_error_reset();
        tsk_error_set_errno(TSK_ERR_IMG_READ);
        tsk_error_set_errstr("%s", read.error().describe().c_str());
        return -1;
    }
    return static_cast<ssize_t>(*read);
}

void close_image(TSK_IMG_INFO* img) {
    delete reinterpret_cast<ExternalImage*>(img);
}

void describe_image(TSK_IMG_INFO* img, FILE* out) {
    auto* image = reinterpret_cast<ExternalImage*>(img);
    std::fprintf(out, "exhibit disk %s\n", image->disk->node().c_str());
}

std::string hex(const std::uint8_t* bytes, std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i)
        s += fmt::format("{:02x}", bytes[i]);
    return s;
}

// The volume label entry at the top of a FAT or exFAT file system, if any.
std::string volume_label(TSK_FS_INFO* fs) {
    if (!TSK_FS_TYPE_ISFAT(fs->ftype) && fs->ftype != TSK_FS_TYPE_EXFAT)
        return {};
    TSK_FS_DIR* top = tsk_fs_dir_open_meta(fs, fs->root_inum);
    if (!top) {
        tsk_error_reset();
        return {};
    }
    std::string label;
    for (std::size_t i = 0; i < tsk_fs_dir_getsize(top) && label.empty(); ++i) {
        const TSK_FS_NAME* n = tsk_fs_dir_get_name(top, i);
        std::string_view name = n && n->name ? n->name : "";
        if (name.ends_with(kLabelSuffix))
            label = name.substr(0, name.size() - kLabelSuffix.size());
    }
    tsk_fs_dir_close(top);
    while (!label.empty() && label.back() == ' ')  // FAT pads its 11 characters
        label.pop_back();
    return label;
}

}  // namespace

std::string tsk_error_text() {
    const char* text = tsk_error_get();
    std::string s = text ? text : "";
    tsk_error_reset();
    // libtsk's messages end with a newline or two, and may hold several lines.
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
    for (auto& c : s)
        if (c == '\n')
            c = ' ';
    return s;
}

// libtsk's own allocator for a folder's listing: exported by libtsk 4.11, declared only in its
// private headers.
extern "C" TSK_FS_DIR* tsk_fs_dir_alloc(TSK_FS_INFO* fs, TSK_INUM_T addr, size_t count);

namespace {

// exhibit takes allocated names only, so libtsk's hunt for orphan files (deleted entries no
// folder names; listed under its virtual $OrphanFiles) is never wanted. Left to run, the hunt
// walks the whole file system once more when the top folder is first opened, and on a
// damaged FAT volume whose folders lead back into the hunt it waits for its own lock for
// ever (libtsk 4.11.1, tsk_fs_dir_find_orphans re-entered; found by the storage_image fuzz
// target). An empty orphan folder set before any folder is opened means libtsk never hunts;
// tsk_fs_close frees it.
void forgo_orphan_hunt(TSK_FS_INFO* fs) {
    if (fs->orphan_dir == nullptr)
        fs->orphan_dir = tsk_fs_dir_alloc(fs, TSK_FS_ORPHANDIR_INUM(fs), 1);
}

}  // namespace

Result<std::unique_ptr<TskDisk>> TskDisk::open(std::unique_ptr<Disk> disk,
                                               std::size_t max_file_systems) {
    std::unique_ptr<TskDisk> d(new TskDisk(std::move(disk)));
    auto* image = new (std::nothrow) ExternalImage{};
    if (!image)
        return fail(Errc::internal, "out of memory for the disk's image");
    image->disk = d->disk_.get();
    tsk_error_reset();
    d->image_ = tsk_img_open_external(image, static_cast<TSK_OFF_T>(d->disk_->size()),
                                      d->disk_->sector_size(), read_image, close_image,
                                      describe_image);
    if (!d->image_) {
        delete image;
        return fail(Errc::internal,
                    fmt::format("libtsk could not take the disk: {}", tsk_error_text()));
    }

    auto add = [&](TSK_FS_INFO* fs, std::string partition) {
        forgo_orphan_hunt(fs);
        d->file_systems_.push_back(
            {.name = fmt::format("fs{}", d->file_systems_.size() + 1),
             .offset = static_cast<std::uint64_t>(fs->offset),
             .type = tsk_fs_type_toname(fs->ftype) ? tsk_fs_type_toname(fs->ftype) : "unknown",
             .serial = hex(fs->fs_id, std::min<std::size_t>(fs->fs_id_used, TSK_FS_INFO_FS_ID_LEN)),
             .label = volume_label(fs),
             .partition = std::move(partition),
             .fs = fs});
    };

    auto* vs = tsk_vs_open(d->image_, 0, TSK_VS_TYPE_DETECT);
    if (vs) {
        d->vs_ = vs;
        d->partition_table_ = tsk_vs_type_toname(vs->vstype) ? tsk_vs_type_toname(vs->vstype) : "";
        for (TSK_PNUM_T i = 0; i < vs->part_count; ++i) {
            const TSK_VS_PART_INFO* part = tsk_vs_part_get(vs, i);
            if (!part || !(part->flags & TSK_VS_PART_FLAG_ALLOC))
                continue;
            if (d->file_systems_.size() >= max_file_systems)
                break;
            if (auto* fs = tsk_fs_open_vol(part, TSK_FS_TYPE_DETECT))
                add(fs, part->desc ? part->desc : "");
            else
                tsk_error_reset();  // a partition without a readable file system: not ours
        }
    } else {
        tsk_error_reset();
    }
    if (d->file_systems_.empty() && d->disk_->gone())
        return fail(Errc::io, std::string(drivers::kDeviceDisconnected));
    if (d->file_systems_.empty() && !vs) {
        if (auto* fs = tsk_fs_open_img(d->image_, 0, TSK_FS_TYPE_DETECT))
            add(fs, "");
        else
            tsk_error_reset();
    }
    if (d->disk_->interrupted())
        return fail(Errc::cancelled, "stopped while looking for the disk's file systems");
    if (d->disk_->gone())
        return fail(Errc::io, std::string(drivers::kDeviceDisconnected));
    if (d->file_systems_.empty())
        return fail(Errc::unsupported,
                    "no file system this kiosk can read was found on it (it may be encrypted, "
                    "unformatted or of a kind not supported)");
    return d;
}

TskDisk::~TskDisk() {
    for (auto& f : file_systems_)
        tsk_fs_close(f.fs);
    if (vs_)
        tsk_vs_close(static_cast<TSK_VS_INFO*>(vs_));
    if (image_)
        tsk_img_close(image_);
}

}  // namespace exhibit::storage
