// Who a plugged-in USB device says it is: ids, strings, where it sits and how fast it
// runs, plus its descriptors for classification. Reads libusb's cached descriptors and
// opens the device briefly for its strings (control transfers only; nothing is claimed).
//
// Reentrant; the blocking calls must not run on the context's event thread.
#pragma once

#include <libusb.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "drivers/usb/classify.hpp"
#include "drivers/usb/usb_context.hpp"
#include "drivers/usb/usb_handles.hpp"

namespace exhibit::usb {

struct UsbIdentity {
    std::uint16_t vendor_id = 0;
    std::uint16_t product_id = 0;
    std::string manufacturer;
    std::string product;
    std::string serial;
    std::string bus_path;  // "1-1.4": bus number, then the chain of ports
    std::string speed;     // "low", "full", "high", "super", "super_plus" or "unknown"
    std::uint8_t bus_number = 0;
    std::uint8_t address = 0;  // changes at every plug
};

struct UsbInspection {
    UsbIdentity identity;
    DescriptorSet descriptors;
    std::string note;  // why some strings are missing, for the log; empty when all was read
};

std::string bus_path_of(libusb_device* device);
std::string_view speed_name(int libusb_speed);

// The descriptors libusb has cached for `device` (no I/O), without interface names.
Result<DescriptorSet> cached_descriptors(libusb_device* device);

// Everything above, with the strings read from the device (each control transfer bounded by
// `timeout`). Errc::io "device disconnected" when it is already gone; a device that cannot
// be opened (permissions) is reported without strings and a note.
Result<UsbInspection> inspect_device(libusb_device* device, std::chrono::milliseconds timeout);

// The present device at `bus_path` ("1-1.4"); Errc::not_found when there is none.
Result<DeviceRef> find_device(UsbContext& context, std::string_view bus_path);
// The present device with this bus number and address, and these vendor and product ids
// (an address is reused once its device leaves); Errc::not_found when there is none.
Result<DeviceRef> find_device(UsbContext& context, std::uint8_t bus, std::uint8_t address,
                              std::uint16_t vendor_id, std::uint16_t product_id);

}  // namespace exhibit::usb
