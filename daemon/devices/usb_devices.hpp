// exhibitd's USB edge: the USB monitor feeding the device registry through the loop.
//
// Every plug becomes a new device object with its classes, identity, the functions drivers
// are matched on and the port a driver opens it by: state connected when a registered driver
// serves it, else unsupported with a sentence saying why; every unplug removes
// the object, which stops that device's session (the session manager watches the registry:
// interrupted, device disconnected). Plug, classification and unplug are logged with
// journald fields.
//
// Thread-bound to the loop thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "common/error.hpp"
#include "daemon/devices/device_registry.hpp"
#include "daemon/loop/loop_channel.hpp"
#include "drivers/driver_registry.hpp"
#include "drivers/usb/usb_monitor.hpp"

namespace exhibit::devices {

// Fixed journald MESSAGE_IDs of the USB events (never change or reuse one; explained in
// packaging/journald/exhibit.catalog).
namespace message_id {
// A USB device was plugged in. Fields: EXHIBIT_DEVICE, EXHIBIT_USB_BUS_PATH, EXHIBIT_USB_ID,
// EXHIBIT_USB_SPEED (never its serial number).
inline constexpr std::string_view kUsbPlugged = "32441b7a83434a7698f6c84899cc51df";
// What the device offers. Fields: EXHIBIT_DEVICE, EXHIBIT_DEVICE_CLASS, EXHIBIT_USB_SUMMARY.
inline constexpr std::string_view kUsbClassified = "a049c19f4bfc4a52871cea1a9ca7e668";
// The device was unplugged. Fields: EXHIBIT_DEVICE, EXHIBIT_DEVICE_CLASS, EXHIBIT_USB_BUS_PATH.
inline constexpr std::string_view kUsbUnplugged = "485afc6f75df4bd7914797d235079fab";
}  // namespace message_id

struct UsbDevicesOptions {
    // Set when BlockDevices runs beside this object. A USB device whose only classified
    // function is mass storage (a stick, a card reader, a USB disk) is then the same disk that
    // BlockDevices presents through udev, with its size, its device node and a driver for
    // it: its plug, classification and unplug are still logged here, but it is not added to
    // the registry, so that one stick is one device object, not two (one of them forever
    // unsupported). Without udev it is added as before: unsupported, with a sentence. A
    // device offering anything else besides (a phone's MTP or ADB) is added as before too.
    bool disks_from_udev = false;
};

// Whether a classified USB device is a disk only (see UsbDevicesOptions::disks_from_udev).
bool is_mass_storage_only(const usb::Classification& c);

// The device object of a plug; `drivers` decides between connected and unsupported.
devices::DeviceRecord to_device_record(const usb::UsbArrival& arrival,
                                       const drivers::DriverRegistry& drivers);

class UsbDevices {
  public:
    // Starts libusb and its event thread; devices are watched from start() on.
    // `registry` and `drivers` must outlive this object.
    static Result<std::unique_ptr<UsbDevices>> create(loop::LoopChannel& channel,
                                                      devices::DeviceRegistry& registry,
                                                      const drivers::DriverRegistry& drivers,
                                                      UsbDevicesOptions options = {});
    UsbDevices(const UsbDevices&) = delete;
    UsbDevices& operator=(const UsbDevices&) = delete;
    ~UsbDevices();  // stops the monitor; events posted but not yet run are dropped

    // Reports every device present, then each plug and unplug.
    Status start();

  private:
    UsbDevices(loop::LoopChannel& channel, devices::DeviceRegistry& registry,
               const drivers::DriverRegistry& drivers, std::shared_ptr<usb::UsbContext> context,
               UsbDevicesOptions options)
        : channel_(&channel),
          registry_(&registry),
          drivers_(&drivers),
          context_(std::move(context)),
          options_(options) {}
    void arrived(const usb::UsbArrival& a);
    void left(const usb::UsbRemoval& r);

    loop::LoopChannel* channel_;
    devices::DeviceRegistry* registry_;
    const drivers::DriverRegistry* drivers_;
    std::shared_ptr<usb::UsbContext> context_;
    UsbDevicesOptions options_;
    std::unique_ptr<usb::UsbMonitor> monitor_;
    // The device object of each plug; empty for a disk left to BlockDevices.
    std::map<std::uint64_t, std::string> device_of_plug_;
    std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
};

}  // namespace exhibit::devices
