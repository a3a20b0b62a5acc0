#include "daemon/devices/block_devices.hpp"

#include <libudev.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "common/c_handle.hpp"
#include "common/log.hpp"
#include "common/unique_fd.hpp"
#include "drivers/storage/storage_driver.hpp"

namespace exhibit::devices {

namespace {

using UdevPtr = CHandle<udev, udev_unref>;
using UdevMonitorPtr = CHandle<udev_monitor, udev_monitor_unref>;
using UdevEnumeratePtr = CHandle<udev_enumerate, udev_enumerate_unref>;
using UdevDevicePtr = CHandle<udev_device, udev_device_unref>;

// Block devices that are never a person's disk, by their kernel name.
constexpr std::array<std::string_view, 7> kNeverRemovable = {"loop", "ram", "zram", "dm-",
                                                             "md",   "nbd", "sr"};

std::string text(const char* s) {
    return s ? std::string(s) : std::string();
}

// udev writes spaces in ID_VENDOR and ID_MODEL as '_'.
std::string spaced(const char* s) {
    std::string out = text(s);
    std::ranges::replace(out, '_', ' ');
    const auto end = out.find_last_not_of(' ');
    return end == std::string::npos ? std::string() : out.substr(0, end + 1);
}

std::uint16_t hex16(const char* s) {
    std::uint16_t value = 0;
    if (s)
        (void)std::from_chars(s, s + std::char_traits<char>::length(s), value, 16);
    return value;
}

std::uint64_t decimal(const char* s) {
    std::uint64_t value = 0;
    if (s)
        (void)std::from_chars(s, s + std::char_traits<char>::length(s), value);
    return value;
}

// The sysfs speed attribute (Mbit/s) in UsbIdentity's words.
std::string usb_speed(const char* mbps) {
    const std::string s = text(mbps);
    if (s.empty())
        return {};
    if (s == "1.5")
        return "low";
    if (s == "12")
        return "full";
    if (s == "480")
        return "high";
    if (s == "5000")
        return "super";
    if (s == "10000" || s == "20000")
        return "super_plus";
    return "unknown";
}

// The block devices this kiosk uses: those its mounts (/proc/self/mountinfo: the device
// number, or the source for file systems such as btrfs that show an anonymous one) and its
// swap (/proc/swaps) are on.
std::set<dev_t> devices_in_use() {
    std::set<dev_t> out;
    auto add_node = [&](const std::string& path) {
        struct stat st {};
        if (path.starts_with("/dev/") && ::stat(path.c_str(), &st) == 0 && S_ISBLK(st.st_mode))
            out.insert(st.st_rdev);
    };
    std::ifstream mounts("/proc/self/mountinfo");
    std::string line;
    while (std::getline(mounts, line)) {
        // "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw"
        std::istringstream in(line);
        std::string id, parent, numbers;
        in >> id >> parent >> numbers;
        unsigned major = 0, minor = 0;
        if (std::sscanf(numbers.c_str(), "%u:%u", &major, &minor) == 2 && major != 0)
            out.insert(makedev(major, minor));
        if (auto dash = line.find(" - "); dash != std::string::npos) {
            std::istringstream rest(line.substr(dash + 3));
            std::string type, source;
            rest >> type >> source;
            add_node(source);
        }
    }
    std::ifstream swaps("/proc/swaps");
    std::getline(swaps, line);  // the heading
    while (std::getline(swaps, line))
        add_node(line.substr(0, line.find_first_of(" \t")));
    return out;
}

// Whether the kiosk uses the disk `d`: it or a partition of it is in `used`, or is held by
// another block device (device-mapper, md: its holders/ folder is not empty).
bool used_by_kiosk(udev* u, udev_device* d, const std::set<dev_t>& used) {
    auto held = [](const char* syspath) {
        std::error_code ec;
        return syspath &&
               std::filesystem::directory_iterator(std::filesystem::path(syspath) / "holders",
                                                   ec) != std::filesystem::directory_iterator();
    };
    if (used.contains(udev_device_get_devnum(d)) || held(udev_device_get_syspath(d)))
        return true;
    UdevEnumeratePtr e(udev_enumerate_new(u));
    if (!e || udev_enumerate_add_match_parent(e.get(), d) < 0 ||
        udev_enumerate_add_match_subsystem(e.get(), "block") < 0 ||
        udev_enumerate_scan_devices(e.get()) < 0)
        return false;
    udev_list_entry* entry = nullptr;
    udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(e.get())) {
        UdevDevicePtr part(udev_device_new_from_syspath(u, udev_list_entry_get_name(entry)));
        if (part && (used.contains(udev_device_get_devnum(part.get())) ||
                     held(udev_device_get_syspath(part.get()))))
            return true;
    }
    return false;
}

// Everything exhibit uses of a block device, read while the udev object is at hand.
BlockDisk read_disk(udev* u, udev_device* d, const std::set<dev_t>& used) {
    BlockDisk disk;
    disk.syspath = text(udev_device_get_syspath(d));
    disk.sysname = text(udev_device_get_sysname(d));
    disk.devname = text(udev_device_get_devnode(d));
    if (disk.devname.empty())
        disk.devname = text(udev_device_get_property_value(d, "DEVNAME"));
    disk.devtype = text(udev_device_get_devtype(d));
    // The kernel counts a block device's size in 512-byte sectors, whatever its own sector.
    disk.size_bytes = decimal(udev_device_get_sysattr_value(d, "size")) * 512;
    disk.removable_attr = text(udev_device_get_sysattr_value(d, "removable")) == "1";
    disk.cdrom = text(udev_device_get_property_value(d, "ID_CDROM")) == "1";
    disk.id_bus = text(udev_device_get_property_value(d, "ID_BUS"));
    disk.flash_sd = text(udev_device_get_property_value(d, "ID_DRIVE_FLASH_SD")) == "1";
    if (auto* mmc = udev_device_get_parent_with_subsystem_devtype(d, "mmc", nullptr)) {
        disk.mmc_parent = true;
        disk.mmc_type = text(udev_device_get_sysattr_value(mmc, "type"));
    }
    disk.vendor_id = hex16(udev_device_get_property_value(d, "ID_VENDOR_ID"));
    disk.product_id = hex16(udev_device_get_property_value(d, "ID_MODEL_ID"));
    disk.vendor = spaced(udev_device_get_property_value(d, "ID_VENDOR"));
    disk.model = spaced(udev_device_get_property_value(d, "ID_MODEL"));
    disk.serial = text(udev_device_get_property_value(d, "ID_SERIAL_SHORT"));
    if (auto* usb = udev_device_get_parent_with_subsystem_devtype(d, "usb", "usb_device")) {
        disk.usb_bus_path = text(udev_device_get_sysname(usb));
        disk.usb_speed = usb_speed(udev_device_get_sysattr_value(usb, "speed"));
    }
    disk.in_use = used_by_kiosk(u, d, used);
    return disk;
}

std::optional<BlockAction> action_of(const char* action) {
    const std::string_view a = action ? action : "";
    if (a == "add")
        return BlockAction::add;
    if (a == "change")
        return BlockAction::change;
    if (a == "remove")
        return BlockAction::remove;
    return std::nullopt;  // bind, unbind, move, online, offline: nothing for a disk's presence
}

std::string detail_for(const BlockDisk& disk, bool served) {
    if (served)
        return fmt::format("USB stick or memory card ({}): its files, read without mounting",
                           human_size(disk.size_bytes));
    return fmt::format("USB stick or memory card ({}): not supported by this kiosk",
                       human_size(disk.size_bytes));
}

}  // namespace

bool is_removable_disk(const BlockDisk& disk) {
    if (disk.devtype != "disk" || disk.devname.empty() || disk.cdrom)
        return false;
    for (auto prefix : kNeverRemovable)
        if (disk.sysname.starts_with(prefix))
            return false;
    // An mmc disk of type "MMC" is eMMC, soldered to the board: as a rule the kiosk's own.
    // A card in the kiosk's SD slot is type "SD"; its removable attribute says 0.
    const bool sd_card = disk.flash_sd || (disk.mmc_parent && disk.mmc_type != "MMC");
    return disk.id_bus == "usb" || sd_card || (disk.removable_attr && !disk.mmc_parent);
}

std::string human_size(std::uint64_t bytes) {
    constexpr std::array<std::string_view, 6> kUnits = {"B", "kB", "MB", "GB", "TB", "PB"};
    auto value = static_cast<double>(bytes);
    std::size_t unit = 0;
    while (value >= 1000.0 && unit + 1 < kUnits.size()) {
        value /= 1000.0;
        ++unit;
    }
    // One decimal below 10 ("1.9 GB"), none above ("16 GB" for a 15.6 GB stick).
    if (unit > 0 && value < 9.95 && std::round(value) != std::round(value * 10) / 10)
        return fmt::format("{:.1f} {}", value, kUnits[unit]);
    return fmt::format("{:.0f} {}", value, kUnits[unit]);
}

DeviceRecord to_device_record(const BlockDisk& disk, const drivers::DriverRegistry& drivers) {
    DeviceRecord r;
    r.classes = {DeviceClass::mass_storage};
    r.identity = {.vendor_id = disk.vendor_id,
                  .product_id = disk.product_id,
                  .manufacturer = disk.vendor,
                  .product = disk.model,
                  .serial = disk.serial,
                  .bus_path = disk.usb_bus_path,
                  .speed = disk.usb_speed};
    r.transport = std::string(storage::kAddressPrefix) + disk.devname;
    r.functions = {storage::block_function()};
    const bool served = drivers.find(r.functions) != nullptr;
    r.detail = detail_for(disk, served);
    r.state = served ? DeviceState::connected : DeviceState::unsupported;
    return r;
}

// The thread that reads udev: the block devices present at start, then its monitor's
// events, each handed to `handler` on this thread. It waits in poll() on the monitor and an
// eventfd, which the destructor signals.
class BlockWatcher {
  public:
    using Handler = std::function<void(BlockEvent)>;

    static Result<std::unique_ptr<BlockWatcher>> create() {
        UdevPtr udev(udev_new());
        if (!udev)
            return fail_errno("cannot use udev");
        UdevMonitorPtr monitor(udev_monitor_new_from_netlink(udev.get(), "udev"));
        if (!monitor)
            return fail_errno("cannot watch udev's events");
        if (int r =
                udev_monitor_filter_add_match_subsystem_devtype(monitor.get(), "block", nullptr);
            r < 0)
            return fail_errno("cannot watch udev's block devices", -r);
        // Receiving starts before the enumeration, so that nothing happening in between is
        // missed (an event for a disk already listed changes nothing).
        if (int r = udev_monitor_enable_receiving(monitor.get()); r < 0)
            return fail_errno("cannot receive udev's events", -r);
        UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
        if (!wake)
            return fail_errno("cannot create the block watcher's eventfd");
        return std::unique_ptr<BlockWatcher>(
            new BlockWatcher(std::move(udev), std::move(monitor), std::move(wake)));
    }

    BlockWatcher(const BlockWatcher&) = delete;
    BlockWatcher& operator=(const BlockWatcher&) = delete;
    ~BlockWatcher() {
        std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(wake_.get(), &one, sizeof one);
        if (thread_.joinable())
            thread_.join();  // before the udev objects it uses go
    }

    void start(Handler handler) {
        thread_ = std::thread([this, handler = std::move(handler)] { run(handler); });
    }

  private:
    BlockWatcher(UdevPtr udev, UdevMonitorPtr monitor, UniqueFd wake)
        : udev_(std::move(udev)), monitor_(std::move(monitor)), wake_(std::move(wake)) {}

    void enumerate(const Handler& handler) {
        UdevEnumeratePtr e(udev_enumerate_new(udev_.get()));
        if (!e || udev_enumerate_add_match_subsystem(e.get(), "block") < 0 ||
            udev_enumerate_scan_devices(e.get()) < 0) {
            log::event(log::Level::warning, message_id::kDiskWatchFailed,
                       "cannot list udev's block devices: removable disks present now are not "
                       "shown until they are plugged in again",
                       {log::field::error_class(Errc::io)});
            return;
        }
        const auto used = devices_in_use();
        udev_list_entry* entry = nullptr;
        udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(e.get())) {
            UdevDevicePtr d(
                udev_device_new_from_syspath(udev_.get(), udev_list_entry_get_name(entry)));
            if (d && text(udev_device_get_devtype(d.get())) == "disk")
                handler({BlockAction::add, read_disk(udev_.get(), d.get(), used)});
        }
    }

    void run(const Handler& handler) {
        enumerate(handler);
        std::array<pollfd, 2> fds{
            {{udev_monitor_get_fd(monitor_.get()), POLLIN, 0}, {wake_.get(), POLLIN, 0}}};
        for (;;) {
            if (::poll(fds.data(), fds.size(), -1) < 0) {
                if (errno == EINTR)
                    continue;
                const auto e = fail_errno("cannot wait for udev's events").error();
                log::event(log::Level::warning, message_id::kDiskWatchFailed,
                           fmt::format("removable disks are no longer detected: {}", e.describe()),
                           {log::field::error_class(e)});
                return;
            }
            if (fds[1].revents != 0)
                return;  // stopping
            if ((fds[0].revents & (POLLHUP | POLLNVAL)) != 0) {
                // Never readable again: waiting on it would spin.
                log::event(log::Level::warning, message_id::kDiskWatchFailed,
                           "removable disks are no longer detected: udev's event socket closed",
                           {log::field::error_class(Errc::io)});
                return;
            }
            if (fds[0].revents == 0)
                continue;
            // The socket is non-blocking: null when the datagram was not a device's event.
            UdevDevicePtr d(udev_monitor_receive_device(monitor_.get()));
            if (!d)
                continue;
            const auto action = action_of(udev_device_get_action(d.get()));
            if (!action || text(udev_device_get_devtype(d.get())) != "disk")
                continue;
            // A removed disk's partitions and mounts are gone with it: nothing to look up.
            const auto used = *action == BlockAction::remove ? std::set<dev_t>() : devices_in_use();
            handler({*action, read_disk(udev_.get(), d.get(), used)});
        }
    }

    UdevPtr udev_;
    UdevMonitorPtr monitor_;
    UniqueFd wake_;
    std::thread thread_;
};

BlockDevices::BlockDevices(loop::LoopChannel& channel, DeviceRegistry& registry,
                           const drivers::DriverRegistry& drivers,
                           std::unique_ptr<BlockWatcher> watcher)
    : channel_(&channel), registry_(&registry), drivers_(&drivers), watcher_(std::move(watcher)) {}

Result<std::unique_ptr<BlockDevices>> BlockDevices::create(loop::LoopChannel& channel,
                                                           DeviceRegistry& registry,
                                                           const drivers::DriverRegistry& drivers) {
    auto watcher = BlockWatcher::create();
    if (!watcher)
        return std::unexpected(watcher.error());
    return std::unique_ptr<BlockDevices>(
        new BlockDevices(channel, registry, drivers, std::move(*watcher)));
}

BlockDevices::~BlockDevices() {
    *alive_ = false;
    watcher_.reset();  // no event is posted after this
}

Status BlockDevices::start() {
    watcher_->start([this, alive = alive_](BlockEvent e) {
        // Watcher thread: hand the event to the loop, where the registry lives.
        channel_->post([this, alive, e = std::move(e)] {
            if (*alive)
                handle(e);
        });
    });
    return {};
}

void BlockDevices::handle(const BlockEvent& event) {
    const auto& disk = event.disk;
    auto it = present_.find(disk.syspath);
    if (event.action == BlockAction::remove) {
        if (it != present_.end())
            removed(disk.syspath, "it was removed");
        return;
    }
    if (!is_removable_disk(disk)) {
        if (event.action == BlockAction::add)
            log::debug("block device {} is not a removable disk: ignored", disk.sysname);
        return;
    }
    if (disk.in_use) {
        // The kiosk's own disk (or one mounted by hand): never offered, even if listed.
        if (it != present_.end())
            removed(disk.syspath, "it is now in use by this kiosk");
        else if (event.action == BlockAction::add)
            log::event(log::Level::notice, message_id::kDiskInUse,
                       fmt::format("removable disk {} holds file systems this kiosk uses (its "
                                   "own system disk, or mounted by hand): not offered for "
                                   "extraction",
                                   disk.devname),
                       {{"EXHIBIT_BLOCK_DEVICE", disk.devname}});
        return;
    }
    if (disk.size_bytes == 0) {
        // A card reader without a card: its disk stays, with no medium.
        if (it != present_.end())
            removed(disk.syspath, "its card was taken out");
        else if (event.action == BlockAction::add)
            log::event(log::Level::info, message_id::kReaderEmpty,
                       fmt::format("card reader {} has no card in it: it is shown once a card "
                                   "is inserted",
                                   disk.devname),
                       {{"EXHIBIT_BLOCK_DEVICE", disk.devname}});
        return;
    }
    if (it != present_.end()) {
        if (it->second.size_bytes == disk.size_bytes)
            return;  // the same medium (listed at start and announced too, or re-read)
        removed(disk.syspath, "its card was changed");  // another card: another device
    }
    added(disk);
}

void BlockDevices::added(const BlockDisk& disk) {
    auto record = to_device_record(disk, *drivers_);
    auto device = registry_->add(record);
    present_[disk.syspath] = {device, disk.devname, disk.size_bytes};
    // What udev knows of it: "Kingston DataTraveler 3.0, 0951:1666, on USB port 1-1".
    std::string what = disk.vendor;
    if (!disk.model.empty())
        what += (what.empty() ? "" : " ") + disk.model;
    if (disk.vendor_id != 0 || disk.product_id != 0)
        what += fmt::format("{}{:04x}:{:04x}", what.empty() ? "" : ", ", disk.vendor_id,
                            disk.product_id);
    if (!disk.usb_bus_path.empty())
        what += (what.empty() ? "on USB port " : ", on USB port ") + disk.usb_bus_path;
    // No serial number: nothing that identifies a person's disk leaves the kiosk in its log.
    log::event(
        log::Level::info, message_id::kDiskAdded,
        fmt::format("removable disk {} at {} ({}){}: {}", device, disk.devname,
                    human_size(disk.size_bytes), what.empty() ? "" : ", " + what, record.detail),
        {log::field::device(device),
         {"EXHIBIT_BLOCK_DEVICE", disk.devname},
         {"EXHIBIT_DISK_SIZE", std::to_string(disk.size_bytes)},
         {"EXHIBIT_USB_BUS_PATH", disk.usb_bus_path}});
}

void BlockDevices::removed(const std::string& syspath, std::string_view why) {
    auto it = present_.find(syspath);
    if (it == present_.end())
        return;
    const auto present = it->second;
    present_.erase(it);
    const auto* record = registry_->find(present.device);
    const bool busy = record && record->state == DeviceState::busy;
    const auto classes = record ? classes_text(*record) : std::string();
    // Observers (the session manager) stop its session: "interrupted: device disconnected".
    (void)registry_->remove(present.device);
    log::event(log::Level::info, message_id::kDiskRemoved,
               fmt::format("removable disk {} at {}: {}{}", present.device, present.devname, why,
                           busy ? "; its extraction was stopped" : ""),
               {log::field::device(present.device),
                log::field::device_class(classes),
                {"EXHIBIT_BLOCK_DEVICE", present.devname}});
}

}  // namespace exhibit::devices
