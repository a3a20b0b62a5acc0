// The removable-storage family behind the driver interface: USB sticks, SD and other memory
// cards, USB hard disks. exhibitd finds them through udev (daemon/devices/block_devices) as
// block devices offering "block:storage", their address "block:" followed by the device
// node ("block:/dev/sdb"). The driver opens the node read-only, asks the kernel to refuse
// writes to it (BLKROSET), and reads partitions and file systems with The Sleuth Kit (libtsk)
// through its own read callback: nothing is mounted, nothing is written.
//
// A stick carries files only: photos, videos, audio and documents, chosen by the rules every
// family shares (drivers/shared_storage.hpp), from every allocated file of every file system
// found (not only a phone's shared folders); deleted files are not taken. Two choices only a
// disk offers: CCTV exports, taken whole (storage_extractor.hpp), and the whole disk as one
// raw image.
//
// StorageDriver is thread-safe (open() runs on several workers at once); a StorageSession is
// used by one thread at a time, interrupt() from any.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "common/unique_fd.hpp"
#include "drivers/driver.hpp"

namespace exhibit::storage {

// What a removable disk offers: "block:storage".
drivers::Function block_function();

// How a disk's Device::address starts; the rest is the path of its device node (or, in
// tests and the demo, of an image file standing for one).
inline constexpr std::string_view kAddressPrefix = "block:";

// What a stick can give: files, CCTV exports, and the whole disk.
inline constexpr drivers::Category kCategories[] = {
    drivers::Category::photos,    drivers::Category::videos,      drivers::Category::audio,
    drivers::Category::documents, drivers::Category::cctv_export, drivers::Category::disk_image};

// The artefact path of the whole-disk image.
inline constexpr std::string_view kDiskImagePath = "/disk";

// Why a stick or card offers files only.
inline constexpr std::string_view kFilesOnlyNote =
    "a USB stick or memory card holds files only: there are no messages, calls, contacts or "
    "apps to take";

struct StorageLimits {
    std::size_t max_files = 1'000'000;  // entries walked in one file system, folders included
    std::size_t max_depth = 64;         // levels of folders
    std::size_t max_volumes = 16;       // file systems looked at on one disk
};

struct StorageDriverOptions {
    StorageLimits limits;
};

class Disk;

class StorageDriver final : public drivers::Driver {
  public:
    explicit StorageDriver(StorageDriverOptions options = {});

    std::string_view name() const override { return "storage"; }
    std::string_view version() const override;
    std::span<const drivers::Function> serves() const override { return serves_; }
    std::span<const drivers::Category> categories() const override { return kCategories; }
    std::string_view categories_note() const override { return kFilesOnlyNote; }
    Result<std::unique_ptr<drivers::DriverSession>> open(
        const drivers::Device& device, const drivers::OpenContext& context) const override;
    // As open(), on the device's node opened by someone else: the driver host's child gets
    // it from exhibitd (open_node below) and may open nothing itself.
    Result<std::unique_ptr<drivers::DriverSession>> open(UniqueFd disk,
                                                         const drivers::Device& device,
                                                         const drivers::OpenContext& context) const;
    // Opens the device's node read-only, reading nothing: what exhibitd hands the child
    // (HostedDriverOptions::open_device; opening a node does not wait, so `context` has
    // nothing to stop).
    static Result<UniqueFd> open_node(const drivers::Device& device,
                                      const drivers::OpenContext& context);

  private:
    Result<std::unique_ptr<drivers::DriverSession>> open_disk(
        Result<std::unique_ptr<Disk>> disk, const drivers::Device& device,
        const drivers::OpenContext& context) const;
    StorageDriverOptions options_;
    std::vector<drivers::Function> serves_;
};

class TskDisk;

class StorageSession final : public drivers::DriverSession {
  public:
    StorageSession(std::unique_ptr<TskDisk> disk, drivers::Device device, StorageLimits limits);
    ~StorageSession() override;

    Result<drivers::DeviceInfo> device_info() override;
    Result<drivers::Preview> preview(const drivers::Scope& scope) override;
    Status extract(const drivers::Scope& scope, drivers::ArtefactSink& sink) override;
    void interrupt() override;
    bool reusable() const override;

  private:
    Status files_only(const drivers::Scope& scope) const;

    std::unique_ptr<TskDisk> disk_;
    drivers::Device device_;
    StorageLimits limits_;
};

}  // namespace exhibit::storage
