// exhibitd's removable-disk edge: udev's block devices feeding the device registry through
// the loop, as UsbDevices does for USB.
//
// USB sticks, USB hard disks and memory cards (in a USB reader or the kiosk's own SD slot)
// are found as udev block devices, not through libusb: the kernel's usb-storage and mmc
// drivers own them, and the storage family (drivers/storage) reads their device node. Only
// whole disks that are removable are taken (is_removable_disk); a card reader with no card
// in it (size 0) is noted and appears once a card is inserted (udev's "change").
//
// Every removable disk becomes a device object offering storage::block_function(), its
// transport "block:" + its device node: state connected when a registered driver serves it,
// else unsupported with a sentence. Its removal (or its card taken out) removes the object,
// which stops that device's session (interrupted, device disconnected). Each is logged with
// journald fields, never with the disk's serial number.
//
// Thread-bound to the loop thread, except for the watcher's own thread: it reads udev
// (enumeration at start, then its monitor) and only posts what it read to the LoopChannel.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "daemon/devices/device_registry.hpp"
#include "daemon/loop/loop_channel.hpp"
#include "drivers/driver_registry.hpp"

namespace exhibit::devices {

// Fixed journald MESSAGE_IDs of the removable-disk events (never change or reuse one;
// explained in packaging/journald/exhibit.catalog).
namespace message_id {
// A removable disk (USB stick, memory card) appeared. Fields: EXHIBIT_DEVICE,
// EXHIBIT_BLOCK_DEVICE, EXHIBIT_DISK_SIZE, EXHIBIT_USB_BUS_PATH (never its serial number).
inline constexpr std::string_view kDiskAdded = "429263e15d38481d8d5c3b29dd54361b";
// A removable disk was taken out (or its card taken out of the reader). Fields:
// EXHIBIT_DEVICE, EXHIBIT_DEVICE_CLASS, EXHIBIT_BLOCK_DEVICE.
inline constexpr std::string_view kDiskRemoved = "f782c046cbea46ab850a6b119560423b";
// A card reader with no card in it: nothing to show until a card is inserted. Fields:
// EXHIBIT_BLOCK_DEVICE.
inline constexpr std::string_view kReaderEmpty = "4b5a50fe0fad4f3dbcb7355e8155562e";
// A removable disk holds file systems this kiosk has mounted (or that back its swap or a
// device-mapper or md device): the kiosk's own system disk, booted from a stick or a card,
// or a disk mounted by hand. It is not offered for extraction. Fields: EXHIBIT_BLOCK_DEVICE.
inline constexpr std::string_view kDiskInUse = "6541c6001d374d91889a4e2bf30b808f";
// The watcher's thread stopped on an error: removable disks are no longer detected until
// exhibitd restarts. Fields: EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kDiskWatchFailed = "bcef0417b0c043d5a6bd7fb39bb9975e";
}  // namespace message_id

// What udev says of one block device, copied out of libudev on the watcher's thread.
struct BlockDisk {
    std::string syspath;           // "/sys/devices/.../block/sdb": the same disk across events
    std::string sysname;           // "sdb", "mmcblk0", "loop3"
    std::string devname;           // "/dev/sdb"
    std::string devtype;           // "disk" or "partition"
    std::uint64_t size_bytes = 0;  // the size attribute (512-byte sectors) × 512
    bool removable_attr = false;   // the removable attribute is 1
    bool cdrom = false;            // ID_CDROM=1
    std::string id_bus;            // ID_BUS: "usb", "ata", "scsi", ...
    bool flash_sd = false;         // ID_DRIVE_FLASH_SD=1 (a USB reader's SD slot)
    bool mmc_parent = false;       // it is a card in an SD/MMC slot (an mmc parent device)
    std::string mmc_type;          // that parent's type attribute: "SD", "MMC" (eMMC), ...
    std::uint16_t vendor_id = 0;   // ID_VENDOR_ID
    std::uint16_t product_id = 0;  // ID_MODEL_ID
    std::string vendor;            // ID_VENDOR, '_' as ' '
    std::string model;             // ID_MODEL, '_' as ' '
    std::string serial;            // ID_SERIAL_SHORT: never logged
    std::string usb_bus_path;      // the sysname of its parent USB device ("1-1.4"), if any
    std::string usb_speed;         // that device's speed as UsbIdentity names it, if any
    // The kiosk uses it: it, or one of its partitions, is mounted here, is swap, or is held
    // by a device-mapper or md device (the kiosk's own disk, booted from a stick or a card).
    bool in_use = false;
};

enum class BlockAction { add, change, remove };

struct BlockEvent {
    BlockAction action = BlockAction::add;
    BlockDisk disk;
};

// Whether exhibit takes the block device as a removable disk (whatever its size and
// whether the kiosk uses it): a whole disk (DEVTYPE disk) on USB, an SD card (in a USB reader
// or an SD slot) or marked removable by the kernel; never a loop, ram, zram, device-mapper,
// md, nbd or optical (sr) device, nor eMMC (an mmc disk whose type is "MMC": the kiosk's own
// soldered storage, as a rule).
bool is_removable_disk(const BlockDisk& disk);

// "16 GB", "512 MB", "1.9 GB": a disk's size as its label would say it (powers of 1000).
std::string human_size(std::uint64_t bytes);

// The device object of a removable disk; `drivers` decides between connected and
// unsupported.
DeviceRecord to_device_record(const BlockDisk& disk, const drivers::DriverRegistry& drivers);

class BlockWatcher;  // the thread reading udev (block_devices.cpp)

class BlockDevices {
  public:
    // Connects to udev and starts following its block devices (nothing is reported before
    // start()). Fails when udev cannot be used (no /sys, no uevent socket).
    // `registry` and `drivers` must outlive this object.
    static Result<std::unique_ptr<BlockDevices>> create(loop::LoopChannel& channel,
                                                        DeviceRegistry& registry,
                                                        const drivers::DriverRegistry& drivers);
    BlockDevices(const BlockDevices&) = delete;
    BlockDevices& operator=(const BlockDevices&) = delete;
    // Stops the watcher's thread (at once: it waits in poll() on udev and a wake-up fd);
    // events posted but not yet run are dropped. Removes nothing from the registry.
    ~BlockDevices();

    // Reports every removable disk present, then each one added, changed or removed.
    Status start();

    // Loop thread: what the watcher read (public for tests that feed events directly).
    void handle(const BlockEvent& event);

  private:
    BlockDevices(loop::LoopChannel& channel, DeviceRegistry& registry,
                 const drivers::DriverRegistry& drivers, std::unique_ptr<BlockWatcher> watcher);
    void added(const BlockDisk& disk);
    void removed(const std::string& syspath, std::string_view why);

    struct Present {
        std::string device;  // its id in the registry
        std::string devname;
        std::uint64_t size_bytes = 0;
    };

    loop::LoopChannel* channel_;
    DeviceRegistry* registry_;
    const drivers::DriverRegistry* drivers_;
    std::unique_ptr<BlockWatcher> watcher_;
    std::map<std::string, Present> present_;  // by syspath
    std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
};

}  // namespace exhibit::devices
