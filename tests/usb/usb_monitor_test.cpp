// The hotplug monitor on an emulated bus, through libusb's real udev hotplug path: plug and
// unplug reported within a second, identity read from the device, every kind of device
// classified, devices present at start found, a re-plug a new plug.
#include "drivers/usb/usb_monitor.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "phonesim/usb/emulated_bus.hpp"

namespace exhibit {
namespace {

using namespace std::chrono_literals;
using usb::UsbFunction;
using usbsim::interface_preset;

usbsim::DeviceSpec spec_of(std::uint16_t vid, std::uint16_t pid, std::string serial,
                           std::vector<usbsim::InterfaceSpec> interfaces) {
    usbsim::DeviceSpec s;
    s.vendor_id = vid;
    s.product_id = pid;
    s.serial = std::move(serial);
    s.interfaces = std::move(interfaces);
    return s;
}

usbsim::DeviceSpec adb_mtp_phone(std::string serial = "SER0001") {
    return spec_of(0x18d1, 0x4ee2, std::move(serial),
                   {interface_preset("mtp").value(), interface_preset("adb").value()});
}

class UsbMonitorTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto bus = usbsim::EmulatedBus::create();
        ASSERT_TRUE(bus) << bus.error().describe();
        bus_ = std::move(*bus);
    }
    void TearDown() override {
        monitor_.reset();
        context_.reset();
    }

    void start() {
        auto ctx = usb::UsbContext::create();
        ASSERT_TRUE(ctx) << ctx.error().describe();
        context_ = std::move(*ctx);
        auto m = usb::UsbMonitor::start(context_, [this](usb::UsbEvent e) {
            std::lock_guard lock(mutex_);
            events_.push_back(std::move(e));
            cv_.notify_all();
        });
        ASSERT_TRUE(m) << m.error().describe();
        monitor_ = std::move(*m);
    }

    // The `n`th event (0-based), waiting up to `timeout` for it.
    std::optional<usb::UsbEvent> event(std::size_t n, std::chrono::milliseconds timeout = 1s) {
        std::unique_lock lock(mutex_);
        if (!cv_.wait_for(lock, timeout, [&] { return events_.size() > n; }))
            return std::nullopt;
        return events_[n];
    }
    std::size_t count() {
        std::lock_guard lock(mutex_);
        return events_.size();
    }
    usbsim::EmulatedDevice* plug(const usbsim::DeviceSpec& s, std::uint8_t port) {
        auto d = bus_->plug(s, port);
        EXPECT_TRUE(d) << d.error().describe();
        return d ? *d : nullptr;
    }
    static std::vector<UsbFunction> functions(const usb::UsbArrival& a) {
        std::vector<UsbFunction> out;
        for (const auto& f : a.classification.functions)
            out.push_back(f.function);
        return out;
    }

    std::unique_ptr<usbsim::EmulatedBus> bus_;
    std::shared_ptr<usb::UsbContext> context_;
    std::unique_ptr<usb::UsbMonitor> monitor_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<usb::UsbEvent> events_;
};

TEST_F(UsbMonitorTest, PlugIsReportedWithIdentityAndClassWithinOneSecond) {
    ASSERT_NO_FATAL_FAILURE(start());
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(count(), 0u) << "an empty bus reports nothing";
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(plug(adb_mtp_phone(), 1));
    auto e = event(0);
    ASSERT_TRUE(e) << "no arrival within 1 s";
    std::printf(
        "arrival reported after %.1f ms\n",
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    auto* a = std::get_if<usb::UsbArrival>(&*e);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->identity.vendor_id, 0x18d1);
    EXPECT_EQ(a->identity.product_id, 0x4ee2);
    EXPECT_EQ(a->identity.manufacturer, "Google");
    EXPECT_EQ(a->identity.product, "Pixel 7");
    EXPECT_EQ(a->identity.serial, "SER0001");
    EXPECT_EQ(a->identity.bus_path, "1-1");
    EXPECT_EQ(a->identity.speed, "high");
    EXPECT_EQ(functions(*a), (std::vector{UsbFunction::mtp, UsbFunction::adb}));
    EXPECT_TRUE(a->note.empty()) << a->note;
    EXPECT_TRUE(monitor_->device(a->plug_id));
}

TEST_F(UsbMonitorTest, UnplugIsReportedWithinOneSecondAndReplugIsANewPlug) {
    ASSERT_NO_FATAL_FAILURE(start());
    auto* d = plug(adb_mtp_phone(), 1);
    ASSERT_TRUE(d);
    auto first = event(0);
    ASSERT_TRUE(first);
    auto arrived = std::get<usb::UsbArrival>(*first);

    auto t0 = std::chrono::steady_clock::now();
    bus_->unplug(*d);
    auto e = event(1);
    ASSERT_TRUE(e) << "no removal within 1 s";
    std::printf(
        "removal reported after %.1f ms\n",
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    auto* r = std::get_if<usb::UsbRemoval>(&*e);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->plug_id, arrived.plug_id);
    EXPECT_EQ(r->bus_path, "1-1");
    auto gone = monitor_->device(arrived.plug_id);
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().describe(), "device disconnected");

    ASSERT_TRUE(plug(adb_mtp_phone(), 1));
    auto again = event(2);
    ASSERT_TRUE(again) << "no arrival for the re-plug";
    auto* a = std::get_if<usb::UsbArrival>(&*again);
    ASSERT_TRUE(a);
    EXPECT_NE(a->plug_id, arrived.plug_id) << "a re-plugged phone is a new device";
    EXPECT_NE(a->identity.address, arrived.identity.address);
    EXPECT_EQ(a->identity.serial, "SER0001");
}

TEST_F(UsbMonitorTest, DevicesPresentBeforeStartAreFound) {
    ASSERT_TRUE(plug(adb_mtp_phone("EARLY1"), 1));
    ASSERT_TRUE(plug(adb_mtp_phone("EARLY2"), 2));
    ASSERT_NO_FATAL_FAILURE(start());
    std::set<std::string> serials;
    for (std::size_t i = 0; i < 2; ++i) {
        auto e = event(i);
        ASSERT_TRUE(e) << "device " << i << " present at start was not reported";
        serials.insert(std::get<usb::UsbArrival>(*e).identity.serial);
    }
    EXPECT_EQ(serials, (std::set<std::string>{"EARLY1", "EARLY2"}));
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(count(), 2u) << "each device is reported once";
}

TEST_F(UsbMonitorTest, EveryKindOfDeviceIsClassified) {
    ASSERT_NO_FATAL_FAILURE(start());
    usbsim::InterfaceSpec ptp{0x06, 0x01, 0x01, "PTP", true, true};
    struct Case {
        usbsim::DeviceSpec spec;
        std::vector<UsbFunction> want;
    };
    std::vector<Case> cases = {
        {spec_of(0x18d1, 0x4ee1, "MTPONLY", {interface_preset("mtp").value()}), {UsbFunction::mtp}},
        {adb_mtp_phone("ADBMTP"), {UsbFunction::mtp, UsbFunction::adb}},
        {spec_of(0x04e8, 0x6860, "VENDORMTP",
                 {interface_preset("mtp_vendor").value(), interface_preset("adb").value()}),
         {UsbFunction::mtp, UsbFunction::adb}},
        {spec_of(0x05ac, 0x12a8, "IPHONE", {ptp, interface_preset("usbmux").value()}),
         {UsbFunction::apple_usbmux}},
        {spec_of(0x0781, 0x5581, "STICK", {interface_preset("mass_storage").value()}),
         {UsbFunction::mass_storage}},
        {spec_of(0x046d, 0xc31c, "KEYBOARD", {interface_preset("hid").value()}), {}},
    };
    for (std::size_t i = 0; i < cases.size(); ++i)
        ASSERT_TRUE(plug(cases[i].spec, static_cast<std::uint8_t>(i + 1)));
    std::map<std::string, usb::UsbArrival> by_serial;
    for (std::size_t i = 0; i < cases.size(); ++i) {
        auto e = event(i, 2s);
        ASSERT_TRUE(e) << "only " << i << " of " << cases.size() << " devices reported";
        auto a = std::get<usb::UsbArrival>(*e);
        by_serial[a.identity.serial] = a;
    }
    for (const auto& c : cases) {
        auto it = by_serial.find(c.spec.serial);
        ASSERT_NE(it, by_serial.end()) << c.spec.serial;
        EXPECT_EQ(functions(it->second), c.want)
            << c.spec.serial << ": " << it->second.classification.summary;
    }
    EXPECT_EQ(by_serial["KEYBOARD"].classification.summary,
              "046d:c31c class 00/00/00 config 1: if0 03/00/00 (1 ep)");
    EXPECT_EQ(by_serial["VENDORMTP"].descriptors.interfaces[0].name, "MTP")
        << "interface names are read from the device";
}

}  // namespace
}  // namespace exhibit
