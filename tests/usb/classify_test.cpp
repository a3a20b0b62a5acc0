// Classification of descriptor sets: which drivers a device offers, from its descriptors
// alone.
#include "drivers/usb/classify.hpp"

#include <gtest/gtest.h>

namespace exhibit::usb {
namespace {

EndpointInfo bulk(std::uint8_t address, std::uint16_t packet = 512) {
    return {.address = address, .type = EndpointType::bulk, .max_packet_size = packet};
}
EndpointInfo interrupt_in(std::uint8_t address) {
    return {.address = address, .type = EndpointType::interrupt, .max_packet_size = 64};
}

InterfaceInfo itf(std::uint8_t number, std::uint8_t c, std::uint8_t s, std::uint8_t p,
                  std::string name = {}, std::vector<EndpointInfo> eps = {}) {
    return {.number = number,
            .class_code = c,
            .subclass = s,
            .protocol = p,
            .name = std::move(name),
            .endpoints = std::move(eps)};
}

DescriptorSet device(std::uint16_t vid, std::uint16_t pid, std::vector<InterfaceInfo> itfs) {
    return {.vendor_id = vid, .product_id = pid, .configuration = 1, .interfaces = std::move(itfs)};
}

std::vector<UsbFunction> functions(const DescriptorSet& d) {
    std::vector<UsbFunction> out;
    for (const auto& m : classify(d).functions)
        out.push_back(m.function);
    return out;
}

const InterfaceInfo kAdb = itf(1, 0xff, 0x42, 0x01, "ADB Interface", {bulk(0x82), bulk(0x02)});
const InterfaceInfo kMtp =
    itf(0, 0x06, 0x01, 0x01, "MTP", {bulk(0x81), bulk(0x01), interrupt_in(0x83)});

TEST(UsbClassify, MtpOnlyPhone) {
    auto d = device(0x18d1, 0x4ee1, {kMtp});
    EXPECT_EQ(functions(d), std::vector{UsbFunction::mtp});
    EXPECT_FALSE(find_bulk_pair(d, UsbFunction::adb))
        << "no ADB: an extraction cannot use this phone's ADB";
}

TEST(UsbClassify, AdbAndMtpAreBothKept) {
    auto d = device(0x18d1, 0x4ee2, {kMtp, kAdb});
    EXPECT_EQ(functions(d), (std::vector{UsbFunction::mtp, UsbFunction::adb}));
    auto c = classify(d);
    EXPECT_TRUE(c.has(UsbFunction::adb));
    EXPECT_EQ(c.functions[1].interface, 1);
    auto ep = find_bulk_pair(d, UsbFunction::adb);
    ASSERT_TRUE(ep);
    EXPECT_EQ(ep->interface, 1);
    EXPECT_EQ(ep->in, 0x82);
    EXPECT_EQ(ep->out, 0x02);
    EXPECT_EQ(ep->out_max_packet, 512);
}

TEST(UsbClassify, VendorSpecificInterfaceNamedMtpIsMtp) {
    auto d = device(0x04e8, 0x6860, {itf(0, 0xff, 0xff, 0x00, " MTP ", {bulk(0x81), bulk(0x01)})});
    EXPECT_EQ(functions(d), std::vector{UsbFunction::mtp});
    auto other = device(0x04e8, 0x6860, {itf(0, 0xff, 0xff, 0x00, "MTP Plus", {})});
    EXPECT_TRUE(functions(other).empty()) << "only the exact name marks an MTP responder";
}

TEST(UsbClassify, AppleNeedsTheVendorAndTheUsbmuxInterface) {
    auto iphone =
        device(0x05ac, 0x12a8,
               {itf(0, 0x06, 0x01, 0x01, "PTP", {bulk(0x81), bulk(0x02), interrupt_in(0x83)}),
                itf(1, 0xff, 0xfe, 0x02, "Apple USB Multiplexor", {bulk(0x85), bulk(0x04)})});
    EXPECT_EQ(functions(iphone), std::vector{UsbFunction::apple_usbmux})
        << "an iPhone's PTP camera roll is not an Android MTP responder";
    auto not_apple = device(0x1234, 0x5678, {itf(0, 0xff, 0xfe, 0x02)});
    EXPECT_TRUE(functions(not_apple).empty());
    auto apple_without_usbmux = device(0x05ac, 0x12a8, {itf(0, 0x06, 0x01, 0x01)});
    EXPECT_TRUE(functions(apple_without_usbmux).empty());
}

TEST(UsbClassify, MassStorage) {
    auto stick = device(0x0781, 0x5581, {itf(0, 0x08, 0x06, 0x50, {}, {bulk(0x81), bulk(0x02)})});
    EXPECT_EQ(functions(stick), std::vector{UsbFunction::mass_storage});
    auto ufi = device(0x0781, 0x5581, {itf(0, 0x08, 0x04, 0x00)});
    EXPECT_TRUE(functions(ufi).empty()) << "only SCSI over bulk-only transport";
}

TEST(UsbClassify, UnknownDeviceIsUnsupportedWithASummary) {
    auto keyboard =
        device(0x046d, 0xc31c, {itf(0, 0x03, 0x01, 0x01, "Keyboard\x01", {interrupt_in(0x81)})});
    auto c = classify(keyboard);
    EXPECT_FALSE(c.supported());
    EXPECT_EQ(c.summary, "046d:c31c class 00/00/00 config 1: if0 03/01/01 'Keyboard?' (1 ep)");
    auto empty = device(0xabcd, 0x0001, {});
    EXPECT_FALSE(classify(empty).supported());
    EXPECT_EQ(classify(empty).summary, "abcd:0001 class 00/00/00 config 1: no interfaces");
}

TEST(UsbClassify, AlternateSettingsAndDuplicatesAreHandled) {
    auto alt = kAdb;
    alt.number = 0;
    alt.alternate = 1;
    auto d = device(0x18d1, 0x4ee7, {itf(0, 0xff, 0x00, 0x00), alt, kAdb});
    auto c = classify(d);
    ASSERT_EQ(c.functions.size(), 1u) << "each function once";
    EXPECT_EQ(c.functions[0].alternate, 1);
    EXPECT_NE(c.summary.find("if0.1 ff/42/01"), std::string::npos) << c.summary;
}

TEST(UsbClassify, AdbEndpointsMustBeOneBulkPair) {
    auto no_out = device(0x18d1, 0x4ee7, {itf(0, 0xff, 0x42, 0x01, {}, {bulk(0x81)})});
    EXPECT_TRUE(classify(no_out).has(UsbFunction::adb));
    EXPECT_FALSE(find_bulk_pair(no_out, UsbFunction::adb));
    auto zero_packet =
        device(0x18d1, 0x4ee7, {itf(0, 0xff, 0x42, 0x01, {}, {bulk(0x81), bulk(0x01, 0)})});
    EXPECT_FALSE(find_bulk_pair(zero_packet, UsbFunction::adb))
        << "a zero packet size would break ZLP logic";
    auto fastboot =
        device(0x18d1, 0x4ee0, {itf(0, 0xff, 0x42, 0x03, {}, {bulk(0x81), bulk(0x01)})});
    EXPECT_FALSE(classify(fastboot).supported()) << "fastboot is not ADB";
    auto second = device(0x18d1, 0x4ee7, {no_out.interfaces[0], kAdb});
    auto ep = find_bulk_pair(second, UsbFunction::adb);
    ASSERT_TRUE(ep) << "the usable ADB interface is found after an unusable one";
    EXPECT_EQ(ep->interface, 1);
}

}  // namespace
}  // namespace exhibit::usb
