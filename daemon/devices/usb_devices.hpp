// exhibitd's USB edge: the USB monitor feeding the device registry through the loop, and the
// transport factory that opens "usb:" devices for the session manager.
//
// Every plug becomes a new device object (state connected, with its classes and identity);
// every unplug stops that device's session (interrupted: device disconnected) and removes
// the object. Plug, classification and unplug are logged with journald fields.
//
// Thread-bound to the loop thread, except the transport factory's function, which session
// workers call (it is thread-safe).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/error.hpp"
#include "daemon/devices/device_registry.hpp"
#include "daemon/extract/session_manager.hpp"
#include "daemon/loop/loop_channel.hpp"
#include "drivers/usb/bulk_transport.hpp"
#include "drivers/usb/usb_monitor.hpp"

namespace exhibit::devices {

// Fixed journald MESSAGE_IDs of the USB events (never change one).
namespace message_id {
// A USB device was plugged in. Fields: EXHIBIT_DEVICE, EXHIBIT_USB_BUS_PATH, EXHIBIT_USB_ID,
// EXHIBIT_USB_SERIAL, EXHIBIT_USB_SPEED.
inline constexpr std::string_view kUsbPlugged = "32441b7a83434a7698f6c84899cc51df";
// What the device offers. Fields: EXHIBIT_DEVICE, EXHIBIT_DEVICE_CLASSES, EXHIBIT_USB_SUMMARY.
inline constexpr std::string_view kUsbClassified = "a049c19f4bfc4a52871cea1a9ca7e668";
// The device was unplugged. Fields: EXHIBIT_DEVICE, EXHIBIT_USB_BUS_PATH.
inline constexpr std::string_view kUsbUnplugged = "485afc6f75df4bd7914797d235079fab";
}  // namespace message_id

devices::DeviceRecord to_device_record(const usb::UsbArrival& arrival);

class UsbDevices {
  public:
    // Starts libusb and its event thread; devices are watched from start() on.
    static Result<std::unique_ptr<UsbDevices>> create(loop::LoopChannel& channel,
                                                      devices::DeviceRegistry& registry,
                                                      usb::BulkTransportOptions options = {});
    UsbDevices(const UsbDevices&) = delete;
    UsbDevices& operator=(const UsbDevices&) = delete;
    ~UsbDevices();  // stops the monitor; events posted but not yet run are dropped

    // Opens "usb:" devices; hands anything else to `fallback`. Valid while this object is.
    extract::TransportFactory transport_factory(extract::TransportFactory fallback);

    // Reports every device present, then each plug and unplug. Unplugs stop sessions
    // through `sessions`, which must outlive the monitor (stop it with the destructor).
    Status start(extract::SessionManager& sessions);

  private:
    UsbDevices(loop::LoopChannel& channel, devices::DeviceRegistry& registry,
               std::shared_ptr<usb::UsbContext> context, usb::BulkTransportOptions options)
        : channel_(&channel),
          registry_(&registry),
          context_(std::move(context)),
          options_(options) {}
    void arrived(const usb::UsbArrival& a);
    void left(const usb::UsbRemoval& r);
    Result<std::unique_ptr<adb::Transport>> open(const devices::DeviceRecord& device);

    loop::LoopChannel* channel_;
    devices::DeviceRegistry* registry_;
    extract::SessionManager* sessions_ = nullptr;
    std::shared_ptr<usb::UsbContext> context_;
    usb::BulkTransportOptions options_;
    std::unique_ptr<usb::UsbMonitor> monitor_;
    std::map<std::uint64_t, std::string> device_of_plug_;  // loop thread
    std::mutex mutex_;                                     // guards plug_of_device_
    std::map<std::string, std::uint64_t> plug_of_device_;
    std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
};

}  // namespace exhibit::devices
