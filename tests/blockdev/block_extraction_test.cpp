// A USB stick end to end, in-process, on the emulated USB bus: exhibitd's core as exhibitd
// starts it (USB devices, then the removable-disk watcher; the storage family registered)
// and a stick plugged in by usbsim::EmulatedBus::plug_disk: a USB device with one
// mass-storage interface, seen by libusb, and under it its disk "sdb", seen by libudev,
// whose node holds a FAT32 image made here with mkfs.vfat and mcopy. The stick is one device
// (its disk), found through udev, opened by the storage family through its device node and
// read with libtsk; every file taken is stored with the sha256 of its source, and the whole
// disk with the image's.
#include <gtest/gtest.h>

#include <cstdlib>

#include <fmt/format.h>

#include "daemon/devices/block_devices.hpp"
#include "drivers/storage/storage_driver.hpp"
#include "tests/support/disk_images.hpp"
#include "tests/usb/usb_kiosk.hpp"

namespace exhibit {
namespace {

using namespace std::chrono_literals;
using testing::PhoneFile;
namespace fsys = std::filesystem;

// The files on the stick, below its root; the .exe is in no category asked for.
std::vector<PhoneFile> stick_files() {
    return {{"DCIM/100MEDIA/IMG_0001.JPG", 180'000},
            {"DCIM/100MEDIA/IMG_0002.jpg", 1'500'000},
            {"Documents/Witness statement.pdf", 30'000},
            {"Documents/notes.txt", 100},
            {"Music/voice note 1.mp3", 400'000},
            {"Movies/clip.mp4", 3'000'000},
            {"empty.txt", 0}};
}

// A FAT32 image holding the tree (tests/support/disk_images: mkfs.vfat -C, then mcopy -s).
void make_fat_image(const fsys::path& image, const fsys::path& tree) {
    auto built = testing::build_fat32(image, tree, "STICK");
    ASSERT_TRUE(built) << built.error().describe();
}

usbsim::DeviceSpec stick_spec() {
    usbsim::DeviceSpec spec;
    spec.vendor_id = 0x0781;
    spec.product_id = 0x5567;
    spec.manufacturer = "SanDisk";
    spec.product = "Cruzer Blade";
    spec.serial = "4C530001230517114253";
    return spec;
}

class BlockExtraction : public testing::UsbKiosk {
  protected:
    void add_families(drivers::DriverRegistry& drivers) override {
        ASSERT_TRUE(drivers.add(std::make_unique<storage::StorageDriver>()));
    }
    void TearDown() override {
        disks_.reset();
        UsbKiosk::TearDown();
    }

    // As Daemon::start_core: USB told that udev presents disks, USB started, then the
    // removable-disk watcher.
    void start_kiosk(bool watch_disks) {
        usb_options_.disks_from_udev = watch_disks;
        ASSERT_NO_FATAL_FAILURE(start_core());
        if (!watch_disks)
            return;
        auto disks = devices::BlockDevices::create(*channel_, registry_, drivers_);
        ASSERT_TRUE(disks) << disks.error().describe();
        disks_ = std::move(*disks);
        ASSERT_TRUE(disks_->start());
    }

    // A stick whose disk holds the image of `files`, written below work_/tree.
    usbsim::EmulatedDevice* plug_stick(const std::vector<PhoneFile>& files, std::uint8_t port) {
        testing::write_tree(work_ / "tree", files, 7);
        make_fat_image(image(), work_ / "tree");
        auto d = bus_->plug_disk(stick_spec(), port, image().string());
        EXPECT_TRUE(d) << d.error().describe();
        return d ? *d : nullptr;
    }

    // A keyboard at `port`, plugged after something else: once it is in the registry, the
    // USB monitor has handled what was plugged before it.
    void plug_keyboard_and_wait(std::uint8_t port) {
        usbsim::DeviceSpec keyboard;
        keyboard.vendor_id = 0x046d;
        keyboard.product_id = 0xc31c;
        keyboard.interfaces = {usbsim::interface_preset("hid").value()};
        ASSERT_TRUE(bus_->plug(keyboard, port));
        ASSERT_TRUE(wait_device(fmt::format("usb:1-{}", port), 2s));
    }

    fsys::path image() const { return work_ / "stick.img"; }

    testing::TempDir work_;
    std::unique_ptr<devices::BlockDevices> disks_;
};

TEST_F(BlockExtraction, AStickIsOneDeviceFoundThroughUdev) {
    ASSERT_NO_FATAL_FAILURE(start_kiosk(/*watch_disks=*/true));
    ASSERT_TRUE(plug_stick({{"a.jpg", 1000}}, 1));
    const auto* d = wait_device("block:/dev/sdb", 2s);
    ASSERT_TRUE(d) << "the stick's disk was not found through udev";
    EXPECT_EQ(d->classes, std::vector{devices::DeviceClass::mass_storage});
    EXPECT_EQ(d->identity.bus_path, "1-1");
    EXPECT_EQ(d->identity.vendor_id, 0x0781);
    EXPECT_EQ(d->identity.product, "Cruzer Blade");
    ASSERT_NO_FATAL_FAILURE(plug_keyboard_and_wait(2));
    EXPECT_EQ(registry_.find_by_transport("usb:1-1"), nullptr)
        << "the stick's USB device was registered beside its disk";
    EXPECT_EQ(registry_.all().size(), 2u) << "the disk and the keyboard";

    // Unplugged: the disk goes with its USB device.
    const auto id = d->id;
    bus_->unplug(*bus_->at_port(1));
    EXPECT_TRUE(run_until([&] { return registry_.find(id) == nullptr; }, 2s));
}

// Without udev (no watcher) a stick's USB device is listed as before: unsupported.
TEST_F(BlockExtraction, WithoutTheWatcherAStickIsAnUnsupportedUsbDevice) {
    ASSERT_NO_FATAL_FAILURE(start_kiosk(/*watch_disks=*/false));
    ASSERT_TRUE(plug_stick({{"a.jpg", 1000}}, 1));
    const auto* d = wait_device("usb:1-1", 2s);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->classes, std::vector{devices::DeviceClass::mass_storage});
    EXPECT_EQ(d->state, devices::DeviceState::unsupported);
    EXPECT_EQ(d->detail, "USB storage: not supported by this kiosk yet");
}

TEST_F(BlockExtraction, EveryFileOfAStickIsStoredWithItsSourcesHash) {
    const auto files = stick_files();
    ASSERT_NO_FATAL_FAILURE(start_kiosk(/*watch_disks=*/true));
    ASSERT_TRUE(plug_stick(files, 1));
    const auto* d = wait_device("block:/dev/sdb", 2s);
    ASSERT_TRUE(d);
    const auto id = d->id;
    // Contacted on arrival, as every served device: the storage family opened its node and
    // found its file system.
    ASSERT_TRUE(run_until(
        [&] {
            const auto* r = registry_.find(id);
            return r && r->state == devices::DeviceState::ready;
        },
        10s))
        << "the stick was not opened: " << registry_.find(id)->detail;

    using drivers::Category;
    auto session =
        start_session(id, {.categories = {Category::photos, Category::videos, Category::audio,
                                          Category::documents, Category::disk_image}});
    ASSERT_TRUE(session) << session.error().describe();
    auto end = wait_session(*session, 60s);
    ASSERT_TRUE(end) << "the extraction did not end in time";
    EXPECT_EQ(end->state, store::SessionState::completed) << end->reason.value_or("");

    auto items = items_of(*session);
    EXPECT_EQ(items.size(), files.size() + 1) << "every file and the whole disk";
    for (const auto& f : files) {
        auto it = items.find("/fs1/" + f.path);
        ASSERT_NE(it, items.end()) << f.path << " was not taken";
        EXPECT_EQ(it->second.state, store::ItemState::complete) << f.path;
        EXPECT_EQ(it->second.size, static_cast<std::int64_t>(f.size)) << f.path;
        EXPECT_EQ(it->second.sha256, testing::sha256_of(work_ / "tree" / f.path)) << f.path;
        EXPECT_EQ(testing::sha256_of(state_ / it->second.blob), it->second.sha256) << f.path;
    }
    auto disk = items.find(std::string(storage::kDiskImagePath));
    ASSERT_NE(disk, items.end()) << "the whole disk was not taken";
    EXPECT_EQ(disk->second.state, store::ItemState::complete);
    EXPECT_EQ(disk->second.sha256, testing::sha256_of(image())) << "the image's bytes, all of them";

    // The session records the stick as udev named it.
    auto s = store_->catalog().session(*session).value();
    EXPECT_EQ(s.device_serial, "4C530001230517114253");
    EXPECT_EQ(s.device.value("manufacturer", ""), "SanDisk");
    EXPECT_EQ(s.device.value("model", ""), "Cruzer Blade");
}

}  // namespace
}  // namespace exhibit
