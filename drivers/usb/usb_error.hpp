// libusb's return codes and transfer statuses as exhibit Errors, converted once here.
#pragma once

#include <libusb.h>

#include <string_view>

#include "common/error.hpp"
#include "drivers/driver.hpp"

namespace exhibit::usb {

// The message every disconnect error carries, so a session ends "interrupted: device
// disconnected" whichever layer noticed first (the drivers' shared word for it).
inline constexpr std::string_view kDisconnected = drivers::kDeviceDisconnected;

// `code` is a LIBUSB_ERROR_* value; `what` says what was being done ("usb:1-1: claim").
Error usb_error(int code, std::string_view what);

// The error for a transfer that ended with `status` (never LIBUSB_TRANSFER_COMPLETED).
Error transfer_error(libusb_transfer_status status, std::string_view what);

}  // namespace exhibit::usb
