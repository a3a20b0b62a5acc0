// What a USB device offers, decided from its descriptors alone. Pure functions of plain
// values (no libusb here), so every descriptor set a phone might present is unit-tested.
//
// A phone can expose several functions at once (ADB and MTP side by side): all are kept.
// Each driver's match is listed once, here:
//   ADB           interface ff/42/01
//   MTP           interface 06/01/01, or a vendor-specific (ff) interface named "MTP"
//   Apple usbmux  vendor 05ac with interface ff/fe/02
//   mass storage  interface 08/06/50 (SCSI transparent, bulk-only)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exhibit::usb {

inline constexpr std::uint16_t kAppleVendorId = 0x05ac;

enum class EndpointType { control, isochronous, bulk, interrupt };

struct EndpointInfo {
    std::uint8_t address = 0;  // bit 7 set: IN (device to host)
    EndpointType type = EndpointType::bulk;
    std::uint16_t max_packet_size = 0;

    bool is_in() const { return (address & 0x80) != 0; }
};

struct InterfaceInfo {
    std::uint8_t number = 0;
    std::uint8_t alternate = 0;
    std::uint8_t class_code = 0;
    std::uint8_t subclass = 0;
    std::uint8_t protocol = 0;
    std::string name;  // the iInterface string; empty when absent or unreadable
    std::vector<EndpointInfo> endpoints;
};

// The descriptors of one device: its device descriptor fields and every interface (all
// alternate settings) of its active configuration.
struct DescriptorSet {
    std::uint16_t vendor_id = 0;
    std::uint16_t product_id = 0;
    std::uint8_t device_class = 0;
    std::uint8_t device_subclass = 0;
    std::uint8_t device_protocol = 0;
    std::uint8_t configuration = 0;  // bConfigurationValue of the set below
    std::vector<InterfaceInfo> interfaces;
};

enum class UsbFunction { adb, mtp, apple_usbmux, mass_storage };

std::string_view to_string(UsbFunction f);

struct FunctionMatch {
    UsbFunction function = UsbFunction::adb;
    std::uint8_t interface = 0;
    std::uint8_t alternate = 0;
};

struct Classification {
    std::vector<FunctionMatch> functions;  // each function once, in interface order
    std::string summary;                   // describe(set), for logs and unsupported devices

    bool has(UsbFunction f) const;
    bool supported() const { return !functions.empty(); }
};

Classification classify(const DescriptorSet& set);

// One line for people and logs: "18d1:4ee7 class 00/00/00 config 1: if0 ff/42/01 'ADB
// Interface' (2 ep), if1 06/01/01 (3 ep)".
std::string describe(const DescriptorSet& set);

// The bulk endpoint pair of one interface (the way ADB, and most bulk protocols, talk).
struct BulkEndpoints {
    std::uint8_t interface = 0;
    std::uint8_t alternate = 0;
    std::uint8_t in = 0;
    std::uint8_t out = 0;
    std::uint16_t in_max_packet = 0;
    std::uint16_t out_max_packet = 0;  // decides when a write needs a zero-length packet
};

// The function an interface offers by itself (the rules listed above), or nullopt.
std::optional<UsbFunction> function_of(const DescriptorSet& set, const InterfaceInfo& interface);

// The first interface offering `function` with exactly one bulk IN and one bulk OUT endpoint
// and a usable packet size on each, or nullopt.
std::optional<BulkEndpoints> find_bulk_pair(const DescriptorSet& set, UsbFunction function);

}  // namespace exhibit::usb
