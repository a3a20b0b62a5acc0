#include "phonesim/usb/device_spec.hpp"

#include <fmt/format.h>

#include "common/utf8.hpp"

namespace exhibit::usbsim {

namespace {

void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v & 0xff));
    out.push_back(static_cast<std::uint8_t>(v >> 8));
}

void put_endpoint(std::vector<std::uint8_t>& out, const EndpointLayout& e) {
    out.insert(out.end(), {7, 0x05, e.address,
                           static_cast<std::uint8_t>(e.kind == EndpointKind::bulk ? 0x02 : 0x03)});
    put16(out, e.max_packet);
    out.push_back(e.kind == EndpointKind::bulk ? 0 : 6);  // bInterval
}

// UTF-8 to code points; a byte of no valid sequence becomes U+FFFD.
std::vector<char32_t> code_points(std::string_view s) {
    std::vector<char32_t> out;
    for (std::size_t i = 0; i < s.size();) {
        char32_t cp = 0;
        const std::size_t n = utf8_sequence(s.substr(i), cp);
        out.push_back(n == 0 ? 0xfffd : cp);
        i += n == 0 ? 1 : n;
    }
    return out;
}

// One configuration descriptor (with its interfaces' and endpoints' descriptors). For the
// served configuration (`served`), its endpoints and known interfaces are recorded in `d`;
// strings are added to `d` either way.
std::vector<std::uint8_t> build_config(const DeviceSpec& spec,
                                       const std::vector<InterfaceSpec>& interfaces,
                                       std::uint8_t value, BuiltDescriptors& d, bool served) {
    std::vector<std::uint8_t> body;
    std::uint8_t next_ep = 1;
    for (std::size_t n = 0; n < interfaces.size(); ++n) {
        const auto& i = interfaces[n];
        auto number = static_cast<std::uint8_t>(n);
        std::vector<EndpointLayout> eps;
        if (i.bulk) {
            eps.push_back({static_cast<std::uint8_t>(0x80 | next_ep), number, EndpointKind::bulk,
                           spec.bulk_packet_size()});
            eps.push_back({next_ep, number, EndpointKind::bulk, spec.bulk_packet_size()});
            ++next_ep;
        }
        if (i.interrupt_in)
            eps.push_back(
                {static_cast<std::uint8_t>(0x80 | next_ep++), number, EndpointKind::interrupt, 64});
        std::uint8_t name_index = 0;
        if (!i.name.empty()) {
            d.strings.push_back(i.name);
            name_index = static_cast<std::uint8_t>(d.strings.size());
        }
        body.insert(body.end(), {9, 0x04, number, 0, static_cast<std::uint8_t>(eps.size()),
                                 i.class_code, i.subclass, i.protocol, name_index});
        for (const auto& e : eps)
            put_endpoint(body, e);
        if (!served)
            continue;
        if (!d.adb_interface && i.bulk && i.class_code == 0xff && i.subclass == 0x42 &&
            i.protocol == 0x01) {
            d.adb_interface = number;
            d.adb_in = eps[0].address;
            d.adb_out = eps[1].address;
        }
        if (!d.mtp_interface && i.bulk &&
            ((i.class_code == 0x06 && i.subclass == 0x01 && i.protocol == 0x01) ||
             (i.class_code == 0xff && i.name == "MTP"))) {
            d.mtp_interface = number;
            d.mtp_in = eps[0].address;
            d.mtp_out = eps[1].address;
        }
        if (!d.usbmux_interface && i.bulk && i.class_code == 0xff && i.subclass == 0xfe &&
            i.protocol == 0x02) {
            d.usbmux_interface = number;
            d.usbmux_in = eps[0].address;
            d.usbmux_out = eps[1].address;
        }
        d.endpoints.insert(d.endpoints.end(), eps.begin(), eps.end());
    }
    std::vector<std::uint8_t> config = {9, 0x02};
    put16(config, static_cast<std::uint16_t>(9 + body.size()));
    config.insert(config.end(), {static_cast<std::uint8_t>(interfaces.size()), value, 0, 0x80, 250});
    config.insert(config.end(), body.begin(), body.end());
    return config;
}

}  // namespace

Result<InterfaceSpec> interface_preset(std::string_view name) {
    if (name == "adb")
        return InterfaceSpec{0xff, 0x42, 0x01, "ADB Interface"};
    if (name == "mtp")
        return InterfaceSpec{0x06, 0x01, 0x01, "MTP", true, true};
    if (name == "mtp_vendor")
        return InterfaceSpec{0xff, 0xff, 0x00, "MTP", true, true};
    if (name == "usbmux")
        return InterfaceSpec{0xff, 0xfe, 0x02, "Apple USB Multiplexor"};
    if (name == "mass_storage")
        return InterfaceSpec{0x08, 0x06, 0x50, "Mass Storage"};
    if (name == "hid")
        return InterfaceSpec{0x03, 0x00, 0x00, "", false, true};
    return fail(Errc::invalid_argument,
                fmt::format("unknown interface \"{}\" (adb, mtp, mtp_vendor, usbmux, "
                            "mass_storage, hid, or an object with class/subclass/protocol)",
                            name));
}

Result<Speed> speed_from(std::string_view name) {
    if (name == "full")
        return Speed::full;
    if (name == "high")
        return Speed::high;
    if (name == "super")
        return Speed::super;
    return fail(Errc::invalid_argument,
                fmt::format("unknown speed \"{}\" (full, high, super)", name));
}

std::uint16_t DeviceSpec::bulk_packet_size() const {
    if (max_packet != 0)
        return max_packet;
    return speed == Speed::full ? 64 : speed == Speed::high ? 512 : 1024;
}

std::vector<std::uint8_t> BuiltDescriptors::sysfs_blob() const {
    auto out = device;
    for (const auto& c : leading_configs)
        out.insert(out.end(), c.begin(), c.end());
    out.insert(out.end(), config.begin(), config.end());
    return out;
}

const std::vector<std::uint8_t>* BuiltDescriptors::config_at(std::uint8_t index) const {
    if (index < leading_configs.size())
        return &leading_configs[index];
    return index == leading_configs.size() ? &config : nullptr;
}

Result<BuiltDescriptors> build_descriptors(const DeviceSpec& spec) {
    if (spec.interfaces.empty() || spec.interfaces.size() > 8)
        return fail(Errc::invalid_argument, "a device needs 1 to 8 interfaces");
    if (spec.leading_configurations.size() > 7 ||
        spec.initial_configuration > spec.served_configuration())
        return fail(Errc::invalid_argument, "a device has 1 to 8 configurations");
    BuiltDescriptors d;
    d.strings = {spec.manufacturer, spec.product, spec.serial};
    auto& dev = d.device;
    dev = {18, 0x01};
    put16(dev, spec.speed == Speed::super ? 0x0320 : 0x0200);
    dev.insert(dev.end(),
               {0, 0, 0, static_cast<std::uint8_t>(spec.speed == Speed::super ? 9 : 64)});
    put16(dev, spec.vendor_id);
    put16(dev, spec.product_id);
    put16(dev, spec.bcd_device);
    dev.insert(dev.end(), {1, 2, 3, spec.served_configuration()});

    for (std::size_t n = 0; n < spec.leading_configurations.size(); ++n) {
        const auto& l = spec.leading_configurations[n];
        if (l.empty() || l.size() > 8)
            return fail(Errc::invalid_argument, "a configuration needs 1 to 8 interfaces");
        d.leading_configs.push_back(
            build_config(spec, l, static_cast<std::uint8_t>(n + 1), d, false));
    }
    d.config = build_config(spec, spec.interfaces, spec.served_configuration(), d, true);
    return d;
}

std::vector<std::uint8_t> string_descriptor(std::string_view text) {
    std::vector<std::uint16_t> units;
    for (char32_t cp : code_points(text)) {
        if (cp >= 0x10000) {
            cp -= 0x10000;
            units.push_back(static_cast<std::uint16_t>(0xd800 + (cp >> 10)));
            units.push_back(static_cast<std::uint16_t>(0xdc00 + (cp & 0x3ff)));
        } else {
            units.push_back(static_cast<std::uint16_t>(cp));
        }
    }
    if (units.size() > 126)
        units.resize(126);
    std::vector<std::uint8_t> out{static_cast<std::uint8_t>(2 + 2 * units.size()), 0x03};
    for (auto u : units)
        put16(out, u);
    return out;
}

}  // namespace exhibit::usbsim
