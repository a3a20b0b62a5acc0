// What an emulated USB device looks like: ids, strings, speed and interfaces, and the
// descriptor bytes built from that (the same bytes a kernel exposes in sysfs and answers to
// GET_DESCRIPTOR). Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace exhibit::usbsim {

enum class EndpointKind { bulk, interrupt };

struct InterfaceSpec {
    std::uint8_t class_code = 0xff;
    std::uint8_t subclass = 0;
    std::uint8_t protocol = 0;
    std::string name;           // the iInterface string; empty: none
    bool bulk = true;           // a bulk IN + bulk OUT pair
    bool interrupt_in = false;  // an interrupt IN endpoint (MTP events, HID reports)
};

// Named interface sets: "adb", "mtp", "mtp_vendor" (ff/ff/00 named "MTP"), "usbmux",
// "mass_storage", "hid" (an unsupported 03/00/00 interface).
Result<InterfaceSpec> interface_preset(std::string_view name);

enum class Speed { full, high, super };
Result<Speed> speed_from(std::string_view name);

struct DeviceSpec {
    std::uint16_t vendor_id = 0x18d1;
    std::uint16_t product_id = 0x4ee7;
    std::uint16_t bcd_device = 0x0440;
    std::string manufacturer = "Google";
    std::string product = "Pixel 7";
    std::string serial = "EMU0001";
    Speed speed = Speed::high;
    std::uint16_t max_packet = 0;  // bulk wMaxPacketSize; 0: the speed's (64/512/1024)
    std::vector<InterfaceSpec> interfaces;

    std::uint16_t bulk_packet_size() const;
};

struct EndpointLayout {
    std::uint8_t address = 0;  // bit 7: IN
    std::uint8_t interface = 0;
    EndpointKind kind = EndpointKind::bulk;
    std::uint16_t max_packet = 0;
};

struct BuiltDescriptors {
    std::vector<std::uint8_t> device;  // 18 bytes
    std::vector<std::uint8_t> config;  // the whole wTotalLength configuration
    std::vector<std::string> strings;  // string index i + 1
    std::vector<EndpointLayout> endpoints;
    // The first ADB interface (ff/42/01) and its bulk pair, which the device engine serves.
    std::optional<std::uint8_t> adb_interface;
    std::uint8_t adb_in = 0;
    std::uint8_t adb_out = 0;
    // The first MTP interface (06/01/01, or ff named "MTP") and its bulk pair.
    std::optional<std::uint8_t> mtp_interface;
    std::uint8_t mtp_in = 0;
    std::uint8_t mtp_out = 0;

    // device + config: the sysfs "descriptors" attribute
    std::vector<std::uint8_t> sysfs_blob() const;
};

// Endpoint numbers are given in order of appearance: an interface's bulk pair (IN 0x8N,
// OUT 0x0N) and then its interrupt IN take the next free numbers.
Result<BuiltDescriptors> build_descriptors(const DeviceSpec& spec);

// A USB string descriptor (UTF-16LE) for `text` (UTF-8), cut to the 126 code units allowed.
std::vector<std::uint8_t> string_descriptor(std::string_view text);

}  // namespace exhibit::usbsim
