// The one owner of each libusb C handle: context, device reference, device list, open
// handle, configuration descriptor and transfer. Nothing else in exhibit calls libusb_exit,
// libusb_close, libusb_unref_device or libusb_free_*.
#pragma once

#include <libusb.h>

#include "common/c_handle.hpp"

namespace exhibit::usb {

using ContextPtr = CHandle<libusb_context, libusb_exit>;

// A counted reference to a libusb_device (valid after unplug; opening it then fails).
using DeviceRef = CHandle<libusb_device, libusb_unref_device>;
inline DeviceRef ref_device(libusb_device* d) {
    return DeviceRef(libusb_ref_device(d));
}

// A device list with the references it holds.
inline void free_device_list_and_refs(libusb_device** list) noexcept {
    libusb_free_device_list(list, 1);
}
using DeviceListPtr = CHandle<libusb_device*, free_device_list_and_refs>;

using HandlePtr = CHandle<libusb_device_handle, libusb_close>;

using ConfigPtr = CHandle<libusb_config_descriptor, libusb_free_config_descriptor>;

// Free only when the transfer is not in flight (its callback has run or it was never
// submitted).
using TransferPtr = CHandle<libusb_transfer, libusb_free_transfer>;

}  // namespace exhibit::usb
