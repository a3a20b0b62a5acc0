#include "drivers/usb/classify.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace exhibit::usb {

namespace {

bool triple(const InterfaceInfo& i, std::uint8_t c, std::uint8_t s, std::uint8_t p) {
    return i.class_code == c && i.subclass == s && i.protocol == p;
}

std::string_view trim(std::string_view s) {
    auto first = s.find_first_not_of(" \t");
    if (first == std::string_view::npos)
        return {};
    auto last = s.find_last_not_of(" \t");
    return s.substr(first, last - first + 1);
}

std::optional<UsbFunction> match(const DescriptorSet& set, const InterfaceInfo& i) {
    const bool apple = set.vendor_id == kAppleVendorId;
    if (triple(i, 0xff, 0x42, 0x01))
        return UsbFunction::adb;
    if (triple(i, 0xff, 0xfe, 0x02))
        return apple ? std::optional(UsbFunction::apple_usbmux) : std::nullopt;
    // An iPhone also offers PTP (06/01/01): that is the camera roll of an Apple device, not
    // an Android MTP responder.
    if (!apple && triple(i, 0x06, 0x01, 0x01))
        return UsbFunction::mtp;
    if (!apple && i.class_code == 0xff && trim(i.name) == "MTP")
        return UsbFunction::mtp;
    if (triple(i, 0x08, 0x06, 0x50))
        return UsbFunction::mass_storage;
    return std::nullopt;
}

// Printable ASCII only, at most 32 characters: interface names come from the device.
std::string safe_name(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 32))
        out += (c >= 0x20 && c < 0x7f && c != '\'') ? c : '?';
    return out;
}

}  // namespace

std::string_view to_string(UsbFunction f) {
    switch (f) {
        case UsbFunction::adb:
            return "adb";
        case UsbFunction::mtp:
            return "mtp";
        case UsbFunction::apple_usbmux:
            return "apple_usbmux";
        case UsbFunction::mass_storage:
            return "mass_storage";
    }
    return "?";
}

bool Classification::has(UsbFunction f) const {
    return std::ranges::any_of(functions, [f](const auto& m) { return m.function == f; });
}

Classification classify(const DescriptorSet& set) {
    Classification c;
    for (const auto& i : set.interfaces) {
        auto f = match(set, i);
        if (f && !c.has(*f))
            c.functions.push_back({*f, i.number, i.alternate});
    }
    c.summary = describe(set);
    return c;
}

std::string describe(const DescriptorSet& set) {
    std::string s = fmt::format("{:04x}:{:04x} class {:02x}/{:02x}/{:02x} config {}", set.vendor_id,
                                set.product_id, set.device_class, set.device_subclass,
                                set.device_protocol, set.configuration);
    if (set.interfaces.empty())
        return s + ": no interfaces";
    const char* sep = ": ";
    for (const auto& i : set.interfaces) {
        s += fmt::format("{}if{}", sep, i.number);
        if (i.alternate != 0)
            s += fmt::format(".{}", i.alternate);
        s += fmt::format(" {:02x}/{:02x}/{:02x}", i.class_code, i.subclass, i.protocol);
        if (!i.name.empty())
            s += fmt::format(" '{}'", safe_name(i.name));
        s += fmt::format(" ({} ep)", i.endpoints.size());
        sep = ", ";
    }
    return s;
}

std::optional<UsbFunction> function_of(const DescriptorSet& set, const InterfaceInfo& interface) {
    return match(set, interface);
}

std::optional<BulkEndpoints> find_bulk_pair(const DescriptorSet& set, UsbFunction function) {
    for (const auto& i : set.interfaces) {
        if (match(set, i) != function)
            continue;
        const EndpointInfo* in = nullptr;
        const EndpointInfo* out = nullptr;
        int bulk_in = 0, bulk_out = 0;
        for (const auto& e : i.endpoints) {
            if (e.type != EndpointType::bulk)
                continue;
            if (e.is_in()) {
                in = &e;
                ++bulk_in;
            } else {
                out = &e;
                ++bulk_out;
            }
        }
        if (bulk_in != 1 || bulk_out != 1 || out->max_packet_size == 0 || in->max_packet_size == 0)
            continue;
        return BulkEndpoints{.interface = i.number,
                             .alternate = i.alternate,
                             .in = in->address,
                             .out = out->address,
                             .in_max_packet = in->max_packet_size,
                             .out_max_packet = out->max_packet_size};
    }
    return std::nullopt;
}

}  // namespace exhibit::usb
