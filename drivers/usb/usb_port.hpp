// How a driver reaches one plugged-in USB device: the libusb context and a counted reference
// to the device, handed to drivers in drivers::Device::usb. Made by the USB monitor for each
// plug; opening the device after it left fails with "device disconnected".
//
// Also the names under which drivers register for the functions classify() finds.
//
// Immutable; thread-safe. Keeps the context alive.
#pragma once

#include <memory>
#include <string>

#include "drivers/driver.hpp"
#include "drivers/usb/classify.hpp"
#include "drivers/usb/usb_context.hpp"
#include "drivers/usb/usb_handles.hpp"

namespace exhibit::usb {

class UsbPort {
  public:
    UsbPort(std::shared_ptr<UsbContext> context, DeviceRef device, std::string bus_path)
        : context_(std::move(context)),
          device_(std::move(device)),
          bus_path_(std::move(bus_path)) {}

    const std::shared_ptr<UsbContext>& context() const { return context_; }
    libusb_device* device() const { return device_.get(); }
    const std::string& bus_path() const { return bus_path_; }  // "1-1.4"

  private:
    std::shared_ptr<UsbContext> context_;  // first: outlives the device reference
    DeviceRef device_;
    std::string bus_path_;
};

// "usb:adb", "usb:mtp", "usb:apple_usbmux", "usb:mass_storage".
drivers::Function driver_function(UsbFunction f);

}  // namespace exhibit::usb
