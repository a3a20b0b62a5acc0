// exhibitd's USB edge in-process: plugs and unplugs reach the device registry through the
// loop within a second, as device objects with their classes and identity; a re-plug is a
// new object; devices present before start are found.
#include "daemon/devices/usb_devices.hpp"

#include <gtest/gtest.h>

#include <map>

#include "tests/usb/usb_kiosk.hpp"

namespace exhibit {
namespace {

using namespace std::chrono_literals;
using devices::DeviceClass;
using devices::DeviceState;

class UsbDevicesTest : public testing::UsbKiosk {
  protected:
    testing::TempDir phone_;
};

TEST_F(UsbDevicesTest, PlugUnplugAndReplugReachTheRegistryWithinOneSecond) {
    ASSERT_NO_FATAL_FAILURE(start_core());
    // Arrivals and departures; a served phone is also contacted at once, so `changed`
    // notifications (its state) come in between and are kept apart.
    std::vector<std::pair<std::string, devices::DeviceChange>> changes;
    std::map<std::string, devices::DeviceRecord> arrived;  // as each device was added
    registry_.subscribe([&](const devices::DeviceRecord& r, devices::DeviceChange c) {
        if (c == devices::DeviceChange::added)
            arrived[r.id] = r;
        if (c != devices::DeviceChange::changed)
            changes.emplace_back(r.id, c);
    });
    auto t0 = std::chrono::steady_clock::now();
    auto* phone = plug_phone(phone_.path(), "USBPHONE1", 1);
    ASSERT_TRUE(phone);
    const auto* d = wait_device("usb:1-1");
    ASSERT_TRUE(d) << "the plugged phone did not reach the registry within 1 s";
    std::printf(
        "in the registry after %.1f ms\n",
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    const auto first_id = d->id;
    const auto& a = arrived.at(first_id);
    EXPECT_EQ(a.state, DeviceState::connected);
    EXPECT_EQ(a.classes, (std::vector{DeviceClass::android_mtp, DeviceClass::android_adb}));
    EXPECT_EQ(a.identity.vendor_id, 0x18d1);
    EXPECT_EQ(a.identity.product_id, 0x4ee7);
    EXPECT_EQ(a.identity.manufacturer, "Google");
    EXPECT_EQ(a.identity.product, "Pixel 7");
    EXPECT_EQ(a.identity.serial, "USBPHONE1");
    EXPECT_EQ(a.identity.bus_path, "1-1");
    EXPECT_EQ(a.identity.speed, "high");
    EXPECT_EQ(a.detail, "Android phone with USB debugging (ADB)");
    // Nobody asked for anything: exhibitd contacted the phone on its own.
    ASSERT_TRUE(run_until(
        [&] {
            const auto* r = registry_.find(first_id);
            return r && r->state == DeviceState::ready;
        },
        1s))
        << "the phone was not contacted on arrival";
    std::printf(
        "ready (contacted) after %.1f ms\n",
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());

    t0 = std::chrono::steady_clock::now();
    bus_->unplug(*phone);
    ASSERT_TRUE(run_until([&] { return registry_.find(first_id) == nullptr; }, 1s))
        << "the unplug did not reach the registry within 1 s";
    std::printf(
        "gone from the registry after %.1f ms\n",
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());

    ASSERT_TRUE(plug_phone(phone_.path(), "USBPHONE1", 1));
    const auto* again = wait_device("usb:1-1");
    ASSERT_TRUE(again) << "the re-plugged phone was not detected";
    EXPECT_NE(again->id, first_id) << "a re-plugged phone is a new device object";
    ASSERT_EQ(changes.size(), 3u);
    EXPECT_EQ(changes[0], std::pair(first_id, devices::DeviceChange::added));
    EXPECT_EQ(changes[1], std::pair(first_id, devices::DeviceChange::removed));
    EXPECT_EQ(changes[2], std::pair(again->id, devices::DeviceChange::added));
}

TEST_F(UsbDevicesTest, DevicesPresentBeforeStartAreFound) {
    ASSERT_TRUE(plug_phone(phone_.path(), "EARLY", 3));
    usbsim::DeviceSpec apple;
    apple.vendor_id = 0x05ac;
    apple.product_id = 0x12a8;
    apple.serial = "IPHONE";
    apple.interfaces = {usbsim::InterfaceSpec{0x06, 0x01, 0x01, "PTP", true, true},
                        usbsim::interface_preset("usbmux").value()};
    ASSERT_TRUE(bus_->plug(apple, 4));
    ASSERT_NO_FATAL_FAILURE(start_core());
    const auto* phone = wait_device("usb:1-3");
    ASSERT_TRUE(phone);
    EXPECT_EQ(phone->identity.serial, "EARLY");
    const auto* iphone = wait_device("usb:1-4");
    ASSERT_TRUE(iphone);
    EXPECT_EQ(iphone->classes, std::vector{DeviceClass::apple});
    EXPECT_EQ(iphone->state, DeviceState::unsupported) << "no registered driver serves it";
    EXPECT_EQ(iphone->detail, "Apple device: not supported by this kiosk yet");
    auto started = start_session(iphone->id, media_scope());
    ASSERT_FALSE(started) << "only ADB devices can be extracted";
    EXPECT_EQ(started.error().code, Errc::unsupported);
}

TEST_F(UsbDevicesTest, UnknownDeviceIsUnsupportedWithItsDescriptors) {
    ASSERT_NO_FATAL_FAILURE(start_core());
    usbsim::DeviceSpec keyboard;
    keyboard.vendor_id = 0x046d;
    keyboard.product_id = 0xc31c;
    keyboard.interfaces = {usbsim::interface_preset("hid").value()};
    ASSERT_TRUE(bus_->plug(keyboard, 2));
    const auto* d = wait_device("usb:1-2");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->classes, std::vector{DeviceClass::unsupported});
    EXPECT_EQ(d->state, DeviceState::unsupported);
    EXPECT_EQ(d->detail,
              "not a supported device (046d:c31c class 00/00/00 config 1: if0 03/00/00 (1 ep))");
}

// A phone with USB debugging off offers MTP only: on a kiosk without the MTP family (only ADB
// is registered here) no driver serves it, and the person is told what to do, from the
// moment it is plugged in. tests/mtp/ has the kiosk with the MTP family.
TEST_F(UsbDevicesTest, AnMtpOnlyPhoneIsUnsupportedOnArrivalWithWhatToDo) {
    ASSERT_NO_FATAL_FAILURE(start_core());
    std::vector<DeviceState> states;
    registry_.subscribe(
        [&](const devices::DeviceRecord& r, devices::DeviceChange) { states.push_back(r.state); });
    usbsim::DeviceSpec mtp_only;
    mtp_only.vendor_id = 0x04e8;
    mtp_only.product_id = 0x6860;
    mtp_only.serial = "GALAXY";
    mtp_only.interfaces = {usbsim::interface_preset("mtp").value()};
    ASSERT_TRUE(bus_->plug(mtp_only, 5));
    const auto* d = wait_device("usb:1-5");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->classes, std::vector{DeviceClass::android_mtp});
    EXPECT_EQ(d->state, DeviceState::unsupported);
    EXPECT_TRUE(d->detail.starts_with("USB debugging is off: ")) << d->detail;
    EXPECT_EQ(states, std::vector{DeviceState::unsupported}) << "never shown as connected first";
    auto started = start_session(d->id, media_scope());
    ASSERT_FALSE(started);
    EXPECT_EQ(started.error().code, Errc::unsupported);
    EXPECT_NE(started.error().message.find("USB debugging is off"), std::string::npos)
        << started.error().message;
}

}  // namespace
}  // namespace exhibit
