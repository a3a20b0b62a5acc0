#include "phonesim/usb/usbmux_server.hpp"

namespace exhibit::usbsim {

PipeServer usbmux_server(std::shared_ptr<phonesim::ios::ServiceHost> host,
                         usbmux::Options options) {
    return [host = std::move(host), options](EmulatedDevice& device, std::uint64_t connection) {
        const std::size_t packet = device.bulk_packet_size();
        usbmux::Engine engine(
            host,
            [&device, connection, packet](std::vector<std::byte> frame) -> Status {
                const bool zlp = frame.size() % packet == 0;
                if (auto s = device.send(connection, std::move(frame)); !s)
                    return s;
                if (zlp)
                    return device.send(connection, {});
                return {};
            },
            options);
        for (;;) {
            auto transfer = device.receive(connection);
            if (!transfer)
                break;  // the host released the interface, or the device was unplugged
            engine.on_transfer(*transfer);
        }
        engine.close();
    };
}

DeviceSpec iphone_spec(std::string serial) {
    const InterfaceSpec ptp{0x06, 0x01, 0x01, "PTP", true, true};
    const InterfaceSpec usbmux{0xff, 0xfe, 0x02, "Apple Mobile Device", true, false};
    const InterfaceSpec ethernet{0xff, 0xfd, 0x01, "Apple USB Ethernet", true, false};
    const InterfaceSpec audio_control{0x01, 0x01, 0x00, "", false, false};
    const InterfaceSpec audio_streaming{0x01, 0x02, 0x00, "", false, false};
    const InterfaceSpec hid{0x03, 0x00, 0x00, "", false, true};
    DeviceSpec spec;
    spec.vendor_id = 0x05ac;
    spec.product_id = 0x12a8;
    spec.bcd_device = 0x1402;
    spec.manufacturer = "Apple Inc.";
    spec.product = "iPhone";
    spec.serial = std::move(serial);
    spec.speed = Speed::high;
    spec.leading_configurations = {{ptp}, {audio_control, audio_streaming, hid}, {ptp, usbmux}};
    spec.interfaces = {ptp, usbmux, ethernet};
    spec.initial_configuration = 1;
    return spec;
}

std::string udid_of_serial(const std::string& serial) {
    if (serial.size() != 24)
        return serial;
    return serial.substr(0, 8) + "-" + serial.substr(8);
}

}  // namespace exhibit::usbsim
