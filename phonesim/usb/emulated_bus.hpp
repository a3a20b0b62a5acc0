// An emulated USB bus: a umockdev testbed holding emulated devices — the sysfs tree, /dev
// nodes and udev events that libusb sees, in this process and in children started with
// LD_PRELOAD=libumockdev-preload.so.0 (they inherit $UMOCKDEV_DIR).
//
// The process itself needs the preload too (linked with --no-as-needed, or LD_PRELOAD):
// umockdev sends its uevents through it. Create the bus before the first libusb_init in the
// process (libusb binds its udev monitor then) and destroy it after the last libusb_exit.
//
// Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "phonesim/usb/device_spec.hpp"
#include "phonesim/usb/emulated_device.hpp"
#include "phonesim/usb/gobject_ptr.hpp"

namespace exhibit::usbsim {

class EmulatedBus {
  public:
    // Errc::unsupported when libumockdev-preload is not loaded. Also lowers this thread's
    // timer slack (inherited by threads and children started later): the preload sleeps
    // briefly after every emulated ioctl, and the default slack makes that a real 50 µs.
    static Result<std::unique_ptr<EmulatedBus>> create();
    static bool preload_active();
    // Removes the testbeds that buses of killed processes left in the temporary directory
    // (a SIGKILLed phonesim cannot remove its own): those whose marker no live bus holds
    // locked. Testbeds without the marker (other programs') are left alone. Returns how many
    // were removed.
    static std::size_t remove_stale_testbeds();

    EmulatedBus(const EmulatedBus&) = delete;
    EmulatedBus& operator=(const EmulatedBus&) = delete;
    ~EmulatedBus();  // unplugs what is plugged, removes the testbed

    const std::string& root() const { return root_; }

    // Plugs a device at "1-PORT" with a new address (as the kernel gives at every plug);
    // `server` serves its ADB interface, if it has one. libusb can see and open the device
    // when this returns. The pointer stays valid until the bus is destroyed.
    // `mtp` serves its MTP interface, if it has one.
    // `usbmux` serves its usbmux interface (phonesim/usb/usbmux_server), if it has one.
    Result<EmulatedDevice*> plug(const DeviceSpec& spec, std::uint8_t port, AdbServer server = {},
                                 PipeServer mtp = {}, PipeServer usbmux = {});
    // A USB stick at "1-PORT": a USB device with `spec`'s identity and one mass-storage
    // interface, and under it the disk the kernel would make of it, a block device "sdX"
    // (/dev/sdX, removable, ID_BUS=usb) whose node holds a copy of `image`. With the preload,
    // stat() says the node is a block device (umockdev's sticky-bit convention) and reads
    // return the image's bytes. The disk's "add" uevent follows the USB device's.
    Result<EmulatedDevice*> plug_disk(DeviceSpec spec, std::uint8_t port,
                                      const std::string& image);
    // The "remove" uevent (a stick's disk first), in-flight transfers failing, the server
    // stopped. With `once_in_flight`, the unplug comes (within 10 s) at a moment the host
    // has that many bulk IN transfers submitted and none in its hands: a moment a real
    // unplug may fall on, chosen for a host that cannot take the other moments (usbmuxd
    // 1.1.1: docs/usb.md, "usbmuxd and an unplug").
    void unplug(EmulatedDevice& device, std::size_t once_in_flight = 0);
    // The device plugged at PORT, if any.
    EmulatedDevice* at_port(std::uint8_t port);

  private:
    EmulatedBus(GObjectPtr<> testbed, std::string root, UniqueFd marker)
        : testbed_(std::move(testbed)), root_(std::move(root)), marker_(std::move(marker)) {}
    std::string record(const EmulatedDevice& d, const BuiltDescriptors& desc) const;
    Result<UniqueFd> replace_node_with_fifo(const std::string& devnode) const;
    std::uint8_t next_address();

    GObjectPtr<> testbed_;
    std::string root_;
    UniqueFd marker_;   // locked for the bus's lifetime: the testbed is in use
    std::mutex mutex_;  // guards devices_ and last_address_
    std::vector<std::unique_ptr<EmulatedDevice>> devices_;  // unplugged ones too
    std::map<const EmulatedDevice*, std::string> disks_;   // a stick's disk, by its sysfs path
    char next_disk_ = 'b';                                  // sdb, sdc, ...
    std::uint8_t last_address_ = 1;
};

}  // namespace exhibit::usbsim
