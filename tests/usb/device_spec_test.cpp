// The emulator's descriptor bytes: the layout libusb parses, and the classification the
// monitor will give them.
#include "phonesim/usb/device_spec.hpp"

#include <gtest/gtest.h>

#include "drivers/usb/string_descriptor.hpp"

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
