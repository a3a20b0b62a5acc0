// exhibitd's removable-disk edge in-process on a umockdev testbed: libudev's enumeration and
// monitor (through the umockdev preload) feed the device registry through the loop. A stick
// present at start and one plugged later become device objects with their identity, class,
// transport and state; their removal removes them; disks that are not removable (ATA, loop,
// optical, eMMC, partitions) never appear; an empty card reader appears when a card is
// inserted. The choice of what is removable is also checked as a function.
#include "daemon/devices/block_devices.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <vector>

#include "drivers/storage/storage_driver.hpp"
#include "tests/blockdev/block_testbed.hpp"

namespace exhibit {
namespace {

using namespace std::chrono_literals;
using devices::BlockDisk;
using devices::DeviceChange;
using devices::DeviceClass;
using devices::DeviceState;

// A 64 MiB stick: 131072 sectors.
constexpr const char* kStickSectors = "131072";

class BlockDevicesTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(usbsim::EmulatedBus::preload_active()) << "the umockdev preload is not linked";
        testbed_ = std::make_unique<testing::BlockTestbed>();
        auto loop = loop::EventLoop::create();
        ASSERT_TRUE(loop);
        loop_ = std::make_unique<loop::EventLoop>(std::move(*loop));
        auto channel = loop::LoopChannel::create(*loop_);
        ASSERT_TRUE(channel);
        channel_ = std::move(*channel);
        registry_.subscribe([this](const devices::DeviceRecord& r, DeviceChange c) {
            if (c == DeviceChange::added)
                arrived_[r.id] = r;
            changes_.emplace_back(r.id, c);
        });
    }
    void TearDown() override {
        disks_.reset();
        channel_.reset();
        loop_.reset();
        testbed_.reset();
    }

    // The watcher, as exhibitd starts it; with the storage family registered or not.
    void start(bool storage_family = true) {
        if (storage_family) {
            ASSERT_TRUE(drivers_.add(std::make_unique<storage::StorageDriver>()));
        }
        auto disks = devices::BlockDevices::create(*channel_, registry_, drivers_);
        ASSERT_TRUE(disks) << disks.error().describe();
        disks_ = std::move(*disks);
        ASSERT_TRUE(disks_->start());
    }

    bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 2s) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!done() && std::chrono::steady_clock::now() < deadline)
            sd_event_run(loop_->get(), 10'000);
        return done();
    }

    const devices::DeviceRecord* wait_device(const std::string& transport) {
        run_until([&] { return registry_.find_by_transport(transport) != nullptr; });
        return registry_.find_by_transport(transport);
    }

    // A USB stick as the kernel and udev's rules (60-persistent-storage, usb_id) present it:
    // a USB device at `bus_path` and its whole disk `name` below it.
    std::string add_stick(const std::string& name, const std::string& bus_path,
                          const std::string& sectors = kStickSectors) {
        auto usb = testbed_->add_usb(bus_path, "0951", "1666");
        return testbed_->add("block", name, usb,
                             {{"dev", "8:16"}, {"size", sectors}, {"removable", "1"}, {"ro", "0"}},
                             {{"DEVNAME", "/dev/" + name},
                              {"DEVTYPE", "disk"},
                              {"ID_BUS", "usb"},
                              {"ID_TYPE", "disk"},
                              {"ID_VENDOR", "Kingston"},
                              {"ID_VENDOR_ID", "0951"},
                              {"ID_MODEL", "DataTraveler_3.0"},
                              {"ID_MODEL_ID", "1666"},
                              {"ID_SERIAL_SHORT", "E0D55EA574B1F8B0"}});
    }

    std::unique_ptr<testing::BlockTestbed> testbed_;
    std::unique_ptr<loop::EventLoop> loop_;
    std::unique_ptr<loop::LoopChannel> channel_;
    drivers::DriverRegistry drivers_;
    devices::DeviceRegistry registry_;
    std::unique_ptr<devices::BlockDevices> disks_;
    std::map<std::string, devices::DeviceRecord> arrived_;
    std::vector<std::pair<std::string, DeviceChange>> changes_;
};

TEST_F(BlockDevicesTest, AStickPresentAtStartIsARemovableDiskWithItsIdentity) {
    add_stick("sdb", "1-1");
    ASSERT_NO_FATAL_FAILURE(start());
    const auto* d = wait_device("block:/dev/sdb");
    ASSERT_TRUE(d) << "the stick present at start was not found";
    EXPECT_EQ(d->classes, std::vector{DeviceClass::mass_storage});
    EXPECT_EQ(d->functions, std::vector{storage::block_function()});
    EXPECT_EQ(d->state, DeviceState::connected) << "the storage family serves it";
    EXPECT_EQ(d->detail, "USB stick or memory card (67 MB): its files, read without mounting");
    EXPECT_EQ(d->identity.vendor_id, 0x0951);
    EXPECT_EQ(d->identity.product_id, 0x1666);
    EXPECT_EQ(d->identity.manufacturer, "Kingston");
    EXPECT_EQ(d->identity.product, "DataTraveler 3.0") << "udev's '_' is a space";
    EXPECT_EQ(d->identity.serial, "E0D55EA574B1F8B0");
    EXPECT_EQ(d->identity.bus_path, "1-1") << "the parent USB device's name";
    EXPECT_EQ(d->identity.speed, "high");
    EXPECT_FALSE(d->usb_port) << "a disk is not opened through libusb";
    EXPECT_EQ(registry_.all().size(), 1u);
}

TEST_F(BlockDevicesTest, WithoutTheStorageFamilyAStickIsUnsupported) {
    add_stick("sdb", "1-1");
    ASSERT_NO_FATAL_FAILURE(start(/*storage_family=*/false));
    const auto* d = wait_device("block:/dev/sdb");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->state, DeviceState::unsupported);
    EXPECT_EQ(d->detail, "USB stick or memory card (67 MB): not supported by this kiosk");
}

TEST_F(BlockDevicesTest, AStickPluggedLaterAppearsAndItsRemovalRemovesIt) {
    ASSERT_NO_FATAL_FAILURE(start());
    run_until([] { return false; }, 100ms);  // the (empty) enumeration is done
    EXPECT_TRUE(registry_.all().empty());
    auto t0 = std::chrono::steady_clock::now();
    const auto disk = add_stick("sdc", "1-2", "31116288");  // its "add" uevent
    const auto* d = wait_device("block:/dev/sdc");
    ASSERT_TRUE(d) << "the plugged stick did not reach the registry";
    std::printf(
        "in the registry after %.1f ms\n",
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    const auto id = d->id;
    EXPECT_EQ(d->identity.bus_path, "1-2");
    EXPECT_EQ(d->detail, "USB stick or memory card (16 GB): its files, read without mounting");

    // A "change" that changes nothing (udev re-reading its partitions) is no new device.
    testbed_->uevent(disk, "change");
    run_until([] { return false; }, 200ms);
    EXPECT_EQ(registry_.all().size(), 1u);

    testbed_->remove(disk);
    ASSERT_TRUE(run_until([&] { return registry_.find(id) == nullptr; }))
        << "the removal did not reach the registry";
    ASSERT_EQ(changes_.size(), 2u);
    EXPECT_EQ(changes_[0], std::pair(id, DeviceChange::added));
    EXPECT_EQ(changes_[1], std::pair(id, DeviceChange::removed));

    // Plugged in again: a new device object.
    add_stick("sdd", "1-3");
    const auto* again = wait_device("block:/dev/sdd");
    ASSERT_TRUE(again);
    EXPECT_NE(again->id, id);
}

TEST_F(BlockDevicesTest, DisksThatAreNotRemovableNeverAppear) {
    // The kiosk's own disks and the kernel's virtual ones, present at start.
    testbed_->add("block", "sda", "", {{"dev", "8:0"}, {"size", "500118192"}, {"removable", "0"}},
                  {{"DEVNAME", "/dev/sda"},
                   {"DEVTYPE", "disk"},
                   {"ID_BUS", "ata"},
                   {"ID_MODEL", "Samsung_SSD_860"}});
    testbed_->add("block", "loop0", "", {{"dev", "7:0"}, {"size", "131072"}, {"removable", "0"}},
                  {{"DEVNAME", "/dev/loop0"}, {"DEVTYPE", "disk"}});
    testbed_->add("block", "zram0", "", {{"dev", "252:0"}, {"size", "8388608"}, {"removable", "0"}},
                  {{"DEVNAME", "/dev/zram0"}, {"DEVTYPE", "disk"}});
    auto emmc_host = testbed_->add("mmc", "mmc0:0001", "", {{"type", "MMC"}}, {});
    testbed_->add("block", "mmcblk0", emmc_host,
                  {{"dev", "179:0"}, {"size", "61071360"}, {"removable", "0"}},
                  {{"DEVNAME", "/dev/mmcblk0"}, {"DEVTYPE", "disk"}});
    // A card in the kiosk's own SD slot: removable, although its removable attribute says 0.
    auto sd_host = testbed_->add("mmc", "mmc1:aaaa", "", {{"type", "SD"}}, {});
    testbed_->add("block", "mmcblk1", sd_host,
                  {{"dev", "179:8"}, {"size", "62333952"}, {"removable", "0"}},
                  {{"DEVNAME", "/dev/mmcblk1"}, {"DEVTYPE", "disk"}});
    ASSERT_NO_FATAL_FAILURE(start());
    const auto* card = wait_device("block:/dev/mmcblk1");
    ASSERT_TRUE(card) << "a card in the SD slot was not found";
    EXPECT_EQ(card->identity.bus_path, "") << "not on USB";
    EXPECT_EQ(card->detail, "USB stick or memory card (32 GB): its files, read without mounting");

    // Later: another ATA disk, an external USB DVD drive, a device-mapper disk, a stick's
    // partition, and last a stick, whose arrival shows that the ones before were handled.
    testbed_->add("block", "sdd", "", {{"dev", "8:48"}, {"size", "1953525168"}, {"removable", "0"}},
                  {{"DEVNAME", "/dev/sdd"}, {"DEVTYPE", "disk"}, {"ID_BUS", "ata"}});
    auto dvd_usb = testbed_->add_usb("1-5", "0e8d", "1887");
    testbed_->add(
        "block", "sr0", dvd_usb, {{"dev", "11:0"}, {"size", "2097152"}, {"removable", "1"}},
        {{"DEVNAME", "/dev/sr0"}, {"DEVTYPE", "disk"}, {"ID_BUS", "usb"}, {"ID_CDROM", "1"}});
    testbed_->add("block", "dm-0", "", {{"dev", "254:99"}, {"size", "4194304"}, {"removable", "0"}},
                  {{"DEVNAME", "/dev/dm-0"}, {"DEVTYPE", "disk"}});
    const auto stick = add_stick("sdb", "1-1");
    testbed_->add("block", "sdb1", stick, {{"dev", "8:17"}, {"size", "131008"}, {"partition", "1"}},
                  {{"DEVNAME", "/dev/sdb1"}, {"DEVTYPE", "partition"}, {"ID_BUS", "usb"}});
    testbed_->add("block", "sde", "", {{"dev", "8:64"}, {"size", "131072"}, {"removable", "1"}},
                  {{"DEVNAME", "/dev/sde"}, {"DEVTYPE", "disk"}, {"ID_BUS", "scsi"}});
    ASSERT_TRUE(wait_device("block:/dev/sde")) << "a disk the kernel marks removable is taken";
    ASSERT_TRUE(wait_device("block:/dev/sdb"));
    run_until([] { return false; }, 200ms);
    std::vector<std::string> transports;
    for (const auto* r : registry_.all())
        transports.push_back(r->transport);
    std::ranges::sort(transports);
    EXPECT_EQ(transports,
              (std::vector<std::string>{"block:/dev/mmcblk1", "block:/dev/sdb", "block:/dev/sde"}));
}

TEST_F(BlockDevicesTest, AnEmptyCardReaderAppearsWhenACardIsInserted) {
    auto usb = testbed_->add_usb("1-4", "05e3", "0749");
    auto reader =
        testbed_->add("block", "sdc", usb, {{"dev", "8:32"}, {"size", "0"}, {"removable", "1"}},
                      {{"DEVNAME", "/dev/sdc"},
                       {"DEVTYPE", "disk"},
                       {"ID_BUS", "usb"},
                       {"ID_DRIVE_FLASH_SD", "1"},
                       {"ID_VENDOR", "Generic"},
                       {"ID_MODEL", "STORAGE_DEVICE"}});
    ASSERT_NO_FATAL_FAILURE(start());
    run_until([] { return false; }, 200ms);
    EXPECT_TRUE(registry_.all().empty()) << "a reader without a card is nothing to extract";

    // A 2 GB card inserted: the kernel announces the new medium with "change".
    testbed_->set_attribute(reader, "size", "3862528");
    testbed_->uevent(reader, "change");
    const auto* d = wait_device("block:/dev/sdc");
    ASSERT_TRUE(d) << "the inserted card did not appear";
    const auto first = d->id;
    EXPECT_EQ(d->detail, "USB stick or memory card (2 GB): its files, read without mounting");
    EXPECT_EQ(d->identity.product, "STORAGE DEVICE");

    // Taken out: gone, the reader stays.
    testbed_->set_attribute(reader, "size", "0");
    testbed_->uevent(reader, "change");
    ASSERT_TRUE(run_until([&] { return registry_.find(first) == nullptr; }))
        << "the card taken out is still listed";

    // Another card (of another size) in its place: a new device.
    testbed_->set_attribute(reader, "size", "15523840");
    testbed_->uevent(reader, "change");
    const auto* again = wait_device("block:/dev/sdc");
    ASSERT_TRUE(again);
    EXPECT_NE(again->id, first);
    EXPECT_EQ(again->detail, "USB stick or memory card (7.9 GB): its files, read without mounting");
    // Swapped for a card of yet another size without an empty moment in between.
    const auto second = again->id;
    testbed_->set_attribute(reader, "size", "62333952");
    testbed_->uevent(reader, "change");
    ASSERT_TRUE(run_until([&] {
        const auto* r = registry_.find_by_transport("block:/dev/sdc");
        return r && r->id != second;
    })) << "a card changed for another is another device";
    EXPECT_EQ(registry_.all().size(), 1u);
}

// "MAJOR:MINOR" of the file system mounted at "/" here, or empty when it has none (an overlay).
std::string root_device_numbers() {
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string id, parent, numbers, root, point;
        fields >> id >> parent >> numbers >> root >> point;
        if (point == "/")
            return numbers.starts_with("0:") ? std::string() : numbers;
    }
    return {};
}

// The kiosk booted from a stick (its root file system on the stick's partition), and a
// stick whose partition an encrypted or LVM volume opened here holds: neither is offered.
TEST_F(BlockDevicesTest, ADiskTheKioskUsesIsNeverOffered) {
    const auto root = root_device_numbers();
    if (root.empty())
        GTEST_SKIP() << "\"/\" is on no block device here";
    const auto colon = root.find(':');
    const auto system = add_stick("sdb", "1-1");
    testbed_->add("block", "sdb2", system, {{"dev", root}, {"size", "131000"}, {"partition", "2"}},
                  {{"DEVNAME", "/dev/sdb2"},
                   {"DEVTYPE", "partition"},
                   {"MAJOR", root.substr(0, colon)},
                   {"MINOR", root.substr(colon + 1)}});
    const auto locked = add_stick("sdc", "1-2");
    const auto part = testbed_->add("block", "sdc1", locked,
                                    {{"dev", "8:33"}, {"size", "131000"}, {"partition", "1"}},
                                    {{"DEVNAME", "/dev/sdc1"}, {"DEVTYPE", "partition"}});
    testbed_->set_attribute(part, "holders/dm-3", "");
    add_stick("sdd", "1-3");  // a witness's stick
    ASSERT_NO_FATAL_FAILURE(start());
    ASSERT_TRUE(wait_device("block:/dev/sdd"));
    run_until([] { return false; }, 200ms);
    ASSERT_EQ(registry_.all().size(), 1u)
        << "a disk the kiosk uses was offered: " << registry_.all().front()->transport << ", "
        << registry_.all().back()->transport;
}

// The watcher's thread sleeps in poll() while nothing happens, and its owner's destructor
// returns at once.
TEST_F(BlockDevicesTest, TheWatcherWaitsWithoutSpinningAndStopsAtOnce) {
    add_stick("sdb", "1-1");
    ASSERT_NO_FATAL_FAILURE(start());
    ASSERT_TRUE(wait_device("block:/dev/sdb"));
    auto cpu_ms = [] {
        rusage u{};
        ::getrusage(RUSAGE_SELF, &u);
        return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000.0 +
               static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1000.0;
    };
    const auto before = cpu_ms();
    std::this_thread::sleep_for(500ms);
    const auto used = cpu_ms() - before;
    EXPECT_LT(used, 100.0) << "the process used " << used << " ms of CPU in 500 ms idle";
    const auto t0 = std::chrono::steady_clock::now();
    disks_.reset();
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_LT(took, 500ms) << "stopping the watcher took "
                           << std::chrono::duration<double, std::milli>(took).count() << " ms";
}

// What is taken, as a function of what udev says.
TEST(RemovableDisk, OnlyWholeRemovableDisksAreTaken) {
    BlockDisk stick{.sysname = "sdb",
                    .devname = "/dev/sdb",
                    .devtype = "disk",
                    .size_bytes = 1 << 30,
                    .id_bus = "usb"};
    EXPECT_TRUE(devices::is_removable_disk(stick));
    auto partition = stick;
    partition.sysname = "sdb1";
    partition.devtype = "partition";
    EXPECT_FALSE(devices::is_removable_disk(partition));
    auto no_node = stick;
    no_node.devname.clear();
    EXPECT_FALSE(devices::is_removable_disk(no_node)) << "nothing to open";
    BlockDisk ata{.sysname = "sda", .devname = "/dev/sda", .devtype = "disk", .id_bus = "ata"};
    EXPECT_FALSE(devices::is_removable_disk(ata));
    auto marked = ata;
    marked.removable_attr = true;
    EXPECT_TRUE(devices::is_removable_disk(marked)) << "the kernel says removable";
    for (const char* name : {"loop3", "ram0", "zram0", "dm-1", "md127", "nbd0", "sr0"}) {
        BlockDisk virtual_disk{.sysname = name,
                               .devname = std::string("/dev/") + name,
                               .devtype = "disk",
                               .removable_attr = true,
                               .id_bus = "usb"};
        EXPECT_FALSE(devices::is_removable_disk(virtual_disk)) << name;
    }
    auto dvd = stick;
    dvd.sysname = "sdz";
    dvd.cdrom = true;
    EXPECT_FALSE(devices::is_removable_disk(dvd));
    auto in_use = stick;
    in_use.in_use = true;
    EXPECT_TRUE(devices::is_removable_disk(in_use)) << "removable; BlockDevices keeps it out";
    BlockDisk sd{.sysname = "mmcblk1",
                 .devname = "/dev/mmcblk1",
                 .devtype = "disk",
                 .mmc_parent = true,
                 .mmc_type = "SD"};
    EXPECT_TRUE(devices::is_removable_disk(sd));
    auto emmc = sd;
    emmc.mmc_type = "MMC";
    EXPECT_FALSE(devices::is_removable_disk(emmc)) << "eMMC is soldered to the board";
    emmc.removable_attr = true;
    EXPECT_FALSE(devices::is_removable_disk(emmc));
    BlockDisk reader_slot{.sysname = "sdf",
                          .devname = "/dev/sdf",
                          .devtype = "disk",
                          .id_bus = "scsi",
                          .flash_sd = true};
    EXPECT_TRUE(devices::is_removable_disk(reader_slot));
}

TEST(RemovableDisk, SizesReadAsOnTheLabel) {
    EXPECT_EQ(devices::human_size(0), "0 B");
    EXPECT_EQ(devices::human_size(512), "512 B");
    EXPECT_EQ(devices::human_size(67'108'864), "67 MB");
    EXPECT_EQ(devices::human_size(1'977'614'336), "2 GB");
    EXPECT_EQ(devices::human_size(1'900'000'000), "1.9 GB");
    EXPECT_EQ(devices::human_size(7'948'206'080), "7.9 GB");
    EXPECT_EQ(devices::human_size(15'931'539'456), "16 GB");
    EXPECT_EQ(devices::human_size(2'000'398'934'016), "2 TB");
}

}  // namespace
}  // namespace exhibit
