// The one owner of each libusb C handle: context, device reference, device list, open
// handle, configuration descriptor and transfer. Nothing else in exhibit calls libusb_exit,
// libusb_close, libusb_unref_device or libusb_free_*.
#pragma once

#include <libusb.h>

#include <memory>

namespace exhibit::usb {

struct ContextDeleter {
    void operator()(libusb_context* c) const noexcept { libusb_exit(c); }
};
using ContextPtr = std::unique_ptr<libusb_context, ContextDeleter>;

struct DeviceDeleter {
    void operator()(libusb_device* d) const noexcept { libusb_unref_device(d); }
};
// A counted reference to a libusb_device (valid after unplug; opening it then fails).
using DeviceRef = std::unique_ptr<libusb_device, DeviceDeleter>;
inline DeviceRef ref_device(libusb_device* d) {
    return DeviceRef(libusb_ref_device(d));
}

struct DeviceListDeleter {
    void operator()(libusb_device** list) const noexcept { libusb_free_device_list(list, 1); }
};
using DeviceListPtr = std::unique_ptr<libusb_device*, DeviceListDeleter>;

struct HandleDeleter {
    void operator()(libusb_device_handle* h) const noexcept { libusb_close(h); }
};
using HandlePtr = std::unique_ptr<libusb_device_handle, HandleDeleter>;

struct ConfigDeleter {
    void operator()(libusb_config_descriptor* c) const noexcept {
        libusb_free_config_descriptor(c);
    }
};
using ConfigPtr = std::unique_ptr<libusb_config_descriptor, ConfigDeleter>;

struct TransferDeleter {
    void operator()(libusb_transfer* t) const noexcept { libusb_free_transfer(t); }
};
// Free only when the transfer is not in flight (its callback has run or it was never
// submitted).
using TransferPtr = std::unique_ptr<libusb_transfer, TransferDeleter>;

}  // namespace exhibit::usb
