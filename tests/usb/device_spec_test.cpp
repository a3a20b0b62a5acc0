// The emulator's descriptor bytes: the layout libusb parses, and the classification the
// monitor will give them.
#include "phonesim/usb/device_spec.hpp"

#include <gtest/gtest.h>

#include "drivers/usb/string_descriptor.hpp"
#include "phonesim/usb/usbmux_server.hpp"

namespace exhibit::usbsim {
namespace {

TEST(UsbsimDeviceSpec, AdbAndMtpLayout) {
    DeviceSpec spec;
    spec.interfaces = {interface_preset("mtp").value(), interface_preset("adb").value()};
    auto d = build_descriptors(spec).value();
    ASSERT_EQ(d.device.size(), 18u);
    EXPECT_EQ(d.device[0], 18);
    EXPECT_EQ(d.device[8], 0xd1);  // idVendor 18d1, little endian
    EXPECT_EQ(d.device[9], 0x18);
    EXPECT_EQ(d.device[17], 1);  // one configuration
    // config 9 + MTP (9 + 3 * 7) + ADB (9 + 2 * 7)
    ASSERT_EQ(d.config.size(), 9u + 30u + 23u);
    EXPECT_EQ(d.config[2] | (d.config[3] << 8), static_cast<int>(d.config.size()));
    EXPECT_EQ(d.config[4], 2);         // interfaces
    EXPECT_EQ(d.config[9 + 5], 0x06);  // first interface class
    ASSERT_TRUE(d.adb_interface);
    EXPECT_EQ(*d.adb_interface, 1);
    EXPECT_EQ(d.adb_in, 0x83);  // MTP took 0x81, 0x01 and 0x82
    EXPECT_EQ(d.adb_out, 0x03);
    ASSERT_EQ(d.strings.size(), 5u);
    EXPECT_EQ(d.strings[3], "MTP");
    EXPECT_EQ(d.strings[4], "ADB Interface");
    EXPECT_EQ(d.sysfs_blob().size(), 18u + d.config.size());
}

// An iPhone: four configurations, usbmux in the last, plugged in the first (usbmuxd switches
// to min(bNumConfigurations, 4)).
TEST(UsbsimDeviceSpec, IphoneConfigurations) {
    auto spec = iphone_spec("00008030001A2B3C4D5E6F70");
    auto d = build_descriptors(spec).value();
    EXPECT_EQ(d.device[8] | (d.device[9] << 8), 0x05ac);
    EXPECT_EQ(d.device[10] | (d.device[11] << 8), 0x12a8);
    EXPECT_EQ(d.device[17], 4);  // bNumConfigurations
    EXPECT_EQ(spec.plugged_configuration(), 1);
    EXPECT_EQ(spec.served_configuration(), 4);
    std::size_t total = d.device.size();
    for (std::uint8_t i = 0; i < 4; ++i) {
        const auto* c = d.config_at(i);
        ASSERT_TRUE(c);
        EXPECT_EQ((*c)[5], i + 1);  // bConfigurationValue
        EXPECT_EQ((*c)[2] | ((*c)[3] << 8), static_cast<int>(c->size()));
        total += c->size();
    }
    EXPECT_FALSE(d.config_at(4));
    EXPECT_EQ(d.sysfs_blob().size(), total);
    ASSERT_TRUE(d.usbmux_interface);
    EXPECT_EQ(*d.usbmux_interface, 1);
    EXPECT_EQ(d.config[9 + 9 + 3 * 7 + 5], 0xff);  // usbmux: ff/fe/02 after PTP
    EXPECT_EQ(d.config[9 + 9 + 3 * 7 + 6], 0xfe);
    EXPECT_EQ(d.config[9 + 9 + 3 * 7 + 7], 0x02);
    EXPECT_EQ(d.strings[1], "iPhone");
    EXPECT_EQ(udid_of_serial(spec.serial), "00008030-001A2B3C4D5E6F70");
}

TEST(UsbsimDeviceSpec, PacketSizeFollowsSpeed) {
    DeviceSpec spec;
    spec.interfaces = {interface_preset("adb").value()};
    EXPECT_EQ(spec.bulk_packet_size(), 512);
    spec.speed = Speed::super;
    EXPECT_EQ(spec.bulk_packet_size(), 1024);
    spec.speed = Speed::full;
    EXPECT_EQ(spec.bulk_packet_size(), 64);
    spec.max_packet = 256;
    EXPECT_EQ(spec.bulk_packet_size(), 256);
}

TEST(UsbsimDeviceSpec, StringDescriptorsRoundTrip) {
    for (const std::string& s :
         std::vector<std::string>{"Google", "Pixel 7 Pro", "Ünïcødé 😀", std::string(200, 'x')}) {
        auto bytes = string_descriptor(s);
        auto back = usb::decode_string_descriptor(bytes);
        ASSERT_TRUE(back) << s;
        EXPECT_EQ(*back, s.size() > 126 ? s.substr(0, 126) : s);
    }
    EXPECT_EQ(usb::decode_string_descriptor(string_descriptor("a\xff"
                                                              "b"))
                  .value(),
              "a\uFFFDb");
}

TEST(UsbsimDeviceSpec, BadSpecsAreRefused) {
    DeviceSpec none;
    EXPECT_FALSE(build_descriptors(none));
    EXPECT_FALSE(interface_preset("floppy"));
    EXPECT_FALSE(speed_from("warp"));
}

}  // namespace
}  // namespace exhibit::usbsim
