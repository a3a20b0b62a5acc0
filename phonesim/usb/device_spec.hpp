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
    // Configurations offered before the one holding `interfaces` (described, never served):
    // an iPhone has four and usbmux lives in the last one. The served configuration's
    // bConfigurationValue is their count + 1.
    std::vector<std::vector<InterfaceSpec>> leading_configurations;
    // The configuration the kernel chose at plug (sysfs bConfigurationValue); 0: the served
    // one. A host switches with SET_CONFIGURATION.
    std::uint8_t initial_configuration = 0;

    std::uint16_t bulk_packet_size() const;
    std::uint8_t served_configuration() const {
        return static_cast<std::uint8_t>(leading_configurations.size() + 1);
    }
    std::uint8_t plugged_configuration() const {
        return initial_configuration ? initial_configuration : served_configuration();
    }
};

struct EndpointLayout {
    std::uint8_t address = 0;  // bit 7: IN
    std::uint8_t interface = 0;
    EndpointKind kind = EndpointKind::bulk;
    std::uint16_t max_packet = 0;
};

struct BuiltDescriptors {
    std::vector<std::uint8_t> device;  // 18 bytes
    std::vector<std::uint8_t> config;  // the served configuration, whole (wTotalLength)
    std::vector<std::vector<std::uint8_t>> leading_configs;  // those before it
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
    // The first usbmux interface (ff/fe/02) and its bulk pair.
    std::optional<std::uint8_t> usbmux_interface;
    std::uint8_t usbmux_in = 0;
    std::uint8_t usbmux_out = 0;

    // The configuration descriptor with index `index` (GET_DESCRIPTOR), or null.
    const std::vector<std::uint8_t>* config_at(std::uint8_t index) const;

    // device + every configuration: the sysfs "descriptors" attribute
    std::vector<std::uint8_t> sysfs_blob() const;
};

// Endpoint numbers are given in order of appearance: an interface's bulk pair (IN 0x8N,
// OUT 0x0N) and then its interrupt IN take the next free numbers.
Result<BuiltDescriptors> build_descriptors(const DeviceSpec& spec);

// A USB string descriptor (UTF-16LE) for `text` (UTF-8), cut to the 126 code units allowed.
std::vector<std::uint8_t> string_descriptor(std::string_view text);

}  // namespace exhibit::usbsim
