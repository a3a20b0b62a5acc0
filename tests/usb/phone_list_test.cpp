// exhibit-phonesim --usb --phones FILE: the JSON list of emulated phones.
#include "phonesim/usb/phone_list.hpp"

#include <gtest/gtest.h>

namespace exhibit::usbsim {
namespace {

using nlohmann::json;

TEST(UsbsimPhoneList, AdbPhoneWithDefaults) {
    auto list = parse_phone_list(json::parse(R"([{"root": "phone1", "serial": "S1"}])"), "/base");
    ASSERT_TRUE(list) << list.error().describe();
    ASSERT_EQ(list->size(), 1u);
    const auto& p = (*list)[0];
    EXPECT_EQ(p.port, 1);
    ASSERT_TRUE(p.adb);
    EXPECT_EQ(p.adb->root, "/base/phone1") << "relative paths are taken from the list's folder";
    EXPECT_EQ(p.adb->serial, "S1");
    ASSERT_EQ(p.spec.interfaces.size(), 2u) << "MTP and ADB by default";
    EXPECT_EQ(p.spec.interfaces[0].class_code, 0x06);
    EXPECT_EQ(p.spec.interfaces[1].subclass, 0x42);
    EXPECT_EQ(p.spec.vendor_id, 0x18d1);
}

TEST(UsbsimPhoneList, AStickHoldsAnImageAndNothingOfAPhone) {
    auto list = parse_phone_list(
        json::parse(R"([{"disk_image": "sticks/cctv.img", "port": 3, "product": "Ultra"}])"),
        "/base");
    ASSERT_TRUE(list) << list.error().describe();
    const auto& stick = (*list)[0];
    EXPECT_EQ(stick.disk_image, "/base/sticks/cctv.img");
    EXPECT_EQ(stick.port, 3);
    EXPECT_FALSE(stick.adb);
    EXPECT_FALSE(stick.mtp);
    ASSERT_EQ(stick.spec.interfaces.size(), 1u);
    EXPECT_EQ(stick.spec.interfaces[0].class_code, 0x08) << "mass storage only";
    EXPECT_EQ(stick.spec.product, "Ultra");
    EXPECT_EQ(stick.spec.manufacturer, "SanDisk");
    EXPECT_EQ(stick.spec.serial, "STICK0001");

    auto phone_keys = parse_phone_list(
        json::parse(R"([{"disk_image": "cctv.img", "root": "phone1"}])"), "/base");
    ASSERT_FALSE(phone_keys);
    EXPECT_NE(phone_keys.error().message.find("\"root\" is not for a stick"), std::string::npos)
        << phone_keys.error().message;
}

TEST(UsbsimPhoneList, EveryKindOfDescriptorSet) {
    auto list = parse_phone_list(json::parse(R"([
      {"serial": "MTP", "vendor_id": "04e8", "product_id": 26720, "interfaces": ["mtp"]},
      {"serial": "APPLE", "vendor_id": "05ac", "product_id": "12a8", "speed": "super",
       "interfaces": [{"class": 6, "subclass": 1, "protocol": 1, "name": "PTP"}, "usbmux"]},
      {"serial": "STICK", "port": 9, "interfaces": ["mass_storage"]},
      {"serial": "ODD", "interfaces": [{"class": 255, "subclass": 1, "protocol": 2, "bulk": false,
                                        "interrupt": true}]}
    ])"),
                                 "/");
    ASSERT_TRUE(list) << list.error().describe();
    ASSERT_EQ(list->size(), 4u);
    EXPECT_FALSE((*list)[0].adb) << "no ADB interface: nothing to serve, no root needed";
    EXPECT_EQ((*list)[0].spec.product_id, 0x6860);
    EXPECT_EQ((*list)[1].spec.vendor_id, 0x05ac);
    EXPECT_EQ((*list)[1].spec.speed, Speed::super);
    EXPECT_EQ((*list)[1].spec.interfaces[0].name, "PTP");
    EXPECT_EQ((*list)[1].port, 2);
    EXPECT_EQ((*list)[2].port, 9);
    EXPECT_FALSE((*list)[3].spec.interfaces[0].bulk);
    EXPECT_TRUE((*list)[3].spec.interfaces[0].interrupt_in);
}

TEST(UsbsimPhoneList, AnIPhoneHoldsItsCameraRollTrustAndUdid) {
    auto list = parse_phone_list(json::parse(R"([
      {"iphone": true, "root": "iphone1", "trust": "locked", "udid": "00008030-001A35E22E38802E",
       "port": 4},
      {"iphone": true, "root": "/media/iphone2"}
    ])"),
                                 "/base");
    ASSERT_TRUE(list) << list.error().describe();
    ASSERT_EQ(list->size(), 2u);
    const auto& first = (*list)[0];
    ASSERT_TRUE(first.ios);
    EXPECT_FALSE(first.adb);
    EXPECT_FALSE(first.mtp);
    EXPECT_EQ(first.port, 4);
    EXPECT_EQ(first.ios->media_root, "/base/iphone1");
    EXPECT_EQ(first.ios->trust, phonesim::ios::TrustState::locked);
    EXPECT_EQ(first.ios->identity.unique_device_id, "00008030-001A35E22E38802E");
    EXPECT_EQ(first.spec.vendor_id, 0x05ac);
    EXPECT_EQ(first.spec.serial, "00008030001A35E22E38802E")
        << "usbmuxd makes the UDID back from this serial";
    const auto& second = (*list)[1];
    ASSERT_TRUE(second.ios);
    EXPECT_EQ(second.port, 2);
    EXPECT_EQ(second.ios->trust, phonesim::ios::TrustState::waiting) << "the default";
    EXPECT_NE(second.ios->identity.unique_device_id, "");
}

TEST(UsbsimPhoneList, MistakesAreNamed) {
    auto error = [](const char* text) {
        auto r = parse_phone_list(json::parse(text), "/");
        return r ? std::string("accepted") : r.error().message;
    };
    EXPECT_EQ(error(R"([{"serial": "X", "colour": "red"}])"), "phone 0: unknown key \"colour\"");
    EXPECT_EQ(error(R"([{"serial": "X"}])"), "phone 0: an ADB phone needs \"root\"");
    EXPECT_EQ(error(R"([{"interfaces": ["hid"], "vendor_id": "xyz"}])"),
              "phone 0: vendor_id: expected a 16-bit id such as \"18d1\"");
    EXPECT_EQ(error(R"([{"interfaces": ["floppy"]}])").substr(0, 37),
              "phone 0: unknown interface \"floppy\" (");
    EXPECT_EQ(error(R"([{"interfaces": ["hid"]}, {"interfaces": ["hid"], "port": 1}])"),
              "phone 1: port 1 is taken");
    EXPECT_EQ(error(R"([{"interfaces": ["hid"], "port": 16}])"), "phone 0: port must be 1 to 15");
    EXPECT_EQ(error(R"({})"), "the phone list must be a JSON list of 1 to 15 phones");
    EXPECT_EQ(error(R"([{"iphone": true}])"), "phone 0: an iPhone needs \"root\"");
    EXPECT_EQ(error(R"([{"iphone": true, "root": "i", "serial": "X"}])"),
              "phone 0: \"serial\" is not for an iPhone");
    EXPECT_EQ(error(R"([{"iphone": true, "root": "i", "trust": "maybe"}])"),
              "phone 0: trust \"maybe\": expected locked, waiting or trusted");
    EXPECT_EQ(error(R"([{"iphone": true, "root": "i", "udid": "0000-030-001A35E22E38802E0"}])")
                  .substr(0, 44),
              "phone 0: udid \"0000-030-001A35E22E38802E0\": ");
    EXPECT_EQ(error(R"([{"iphone": true, "root": "i", "scenario": "no-such.json"}])"),
              "phone 0: cannot read the iPhone scenario /no-such.json")
        << "an iPhone's hostile behaviours come from its scenario file";
    EXPECT_EQ(error(R"([{"root": "p", "trust": "locked"}])"),
              "phone 0: \"trust\" is for an iPhone (\"iphone\": true)");
    EXPECT_NE(error(R"([{"interfaces": ["hid"], "serial": 5}])").find("phone 0: "),
              std::string::npos);
}

}  // namespace
}  // namespace exhibit::usbsim
