// exhibitd's core in-process on an emulated USB bus: the loop, the device registry fed by the
// USB monitor, the driver registry with the ADB family, the session manager opening devices
// through it, the evidence store — and phones served by phonesim's device engine behind
// emulated ADB interfaces.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "daemon/devices/usb_devices.hpp"
#include "daemon/extract/session_manager.hpp"
#include "drivers/adb/adb_driver.hpp"
#include "phonesim/device_engine.hpp"
#include "phonesim/phone_setup.hpp"
#include "phonesim/usb/emulated_bus.hpp"
#include "tests/support/file_tree.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::testing {

// An Android phone (MTP + ADB interfaces) whose ADB interface is served by phonesim's engine.
inline usbsim::DeviceSpec usb_phone_spec(const std::string& serial) {
    usbsim::DeviceSpec spec;
    spec.serial = serial;
    spec.interfaces = {usbsim::interface_preset("mtp").value(),
                       usbsim::interface_preset("adb").value()};
    return spec;
}

inline usbsim::AdbServer engine_server(const fsys::path& root, const std::string& serial) {
    auto options = phonesim::make_phone({.root = root, .serial = serial, .model = "Pixel USB"});
    EXPECT_TRUE(options) << options.error().describe();
    auto shared = std::make_shared<phonesim::PhoneOptions>(options ? std::move(*options)
                                                                   : phonesim::PhoneOptions{});
    return [shared](adb::Transport& t) {
        phonesim::DeviceEngine engine(*shared);
        (void)engine.serve(t);
    };
}

class UsbKiosk : public ::testing::Test {
  protected:
    void SetUp() override {
        auto bus = usbsim::EmulatedBus::create();
        ASSERT_TRUE(bus) << bus.error().describe();
        bus_ = std::move(*bus);
    }
    void TearDown() override { stop_core(); }

    // The core, as exhibitd starts it.
    void start_core() {
        auto loop = loop::EventLoop::create();
        ASSERT_TRUE(loop);
        loop_ = std::make_unique<loop::EventLoop>(std::move(*loop));
        auto channel = loop::LoopChannel::create(*loop_);
        ASSERT_TRUE(channel);
        channel_ = std::move(*channel);
        auto s = store::Store::open({.state_directory = state_.path(), .kiosk_id = "usb-test"});
        ASSERT_TRUE(s) << s.error().describe();
        store_ = std::move(*s);
        auto key = adb::AdbHostKey::load_or_create(state_ / "keys/adb", "exhibit@usb-test");
        ASSERT_TRUE(key);
        key_ = std::move(*key);
        // As exhibitd registers its families.
        ASSERT_TRUE(drivers_.add(
            std::make_unique<adb::AdbDriver>(adb::AdbDriverOptions{.host_key = key_})));
        add_families(drivers_);
        extract::SessionManagerOptions options{.state_directory = state_.path(),
                                               .kiosk_id = "usb-test"};
        sessions_ = std::make_unique<extract::SessionManager>(*channel_, *store_, registry_,
                                                              drivers_, std::move(options));
        sessions_->subscribe([this](const extract::SessionView& v) {
            if (v.completed)
                ended_[v.id] = v;
            last_[v.id] = v;
        });
        auto usb = devices::UsbDevices::create(*channel_, registry_, drivers_, usb_options_);
        ASSERT_TRUE(usb) << usb.error().describe();
        usb_ = std::move(*usb);
        ASSERT_TRUE(usb_->start());
    }

    // The families registered after ADB (as exhibitd registers MTP after it).
    virtual void add_families(drivers::DriverRegistry&) {}

    void stop_core() {
        sessions_.reset();
        usb_.reset();
        store_.reset();
        channel_.reset();
        loop_.reset();
    }

    // Runs the loop until `done` holds or `timeout` passes; returns `done()`.
    bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!done() && std::chrono::steady_clock::now() < deadline)
            sd_event_run(loop_->get(), 10'000);
        return done();
    }

    // The registry's device at `transport` ("usb:1-1"), once it is there.
    const devices::DeviceRecord* wait_device(
        const std::string& transport, std::chrono::milliseconds timeout = std::chrono::seconds(1)) {
        run_until([&] { return registry_.find_by_transport(transport) != nullptr; }, timeout);
        return registry_.find_by_transport(transport);
    }

    usbsim::EmulatedDevice* plug_phone(const fsys::path& root, const std::string& serial,
                                       std::uint8_t port) {
        auto d = bus_->plug(usb_phone_spec(serial), port, engine_server(root, serial));
        EXPECT_TRUE(d) << d.error().describe();
        return d ? *d : nullptr;
    }

    Result<std::int64_t> start_session(const std::string& device_id, drivers::Scope scope) {
        extract::StartRequest request;
        request.device_id = device_id;
        request.case_spec.case_reference = "CR-USB";
        request.case_spec.exhibit_reference = "EX-" + device_id;
        request.case_spec.officer_id = "PC1";
        request.scope = std::move(scope);
        request.actor = "officer:PC1";
        return sessions_->start(request);
    }

    std::optional<extract::SessionView> wait_session(std::int64_t id,
                                                     std::chrono::milliseconds timeout) {
        run_until([&] { return ended_.contains(id); }, timeout);
        if (!ended_.contains(id))
            return std::nullopt;
        return ended_[id];
    }

    // source path -> item of a session
    std::map<std::string, store::ItemRecord> items_of(std::int64_t session) {
        std::map<std::string, store::ItemRecord> out;
        auto items = store_->catalog().items_of_session(session);
        EXPECT_TRUE(items);
        if (items)
            for (auto& i : *items)
                out[i.source_path] = i;
        return out;
    }

    static drivers::Scope media_scope() {
        using drivers::Category;
        return {.categories = {Category::photos, Category::videos, Category::audio,
                               Category::documents}};
    }

    std::unique_ptr<usbsim::EmulatedBus> bus_;  // first: outlives every libusb context
    TempDir state_;
    std::unique_ptr<loop::EventLoop> loop_;
    std::unique_ptr<loop::LoopChannel> channel_;
    std::unique_ptr<store::Store> store_;
    std::shared_ptr<adb::AdbHostKey> key_;
    drivers::DriverRegistry drivers_;
    devices::DeviceRegistry registry_;
    devices::UsbDevicesOptions usb_options_;  // read by start_core
    std::unique_ptr<devices::UsbDevices> usb_;
    std::unique_ptr<extract::SessionManager> sessions_;
    std::map<std::int64_t, extract::SessionView> ended_;
    std::map<std::int64_t, extract::SessionView> last_;
};

}  // namespace exhibit::testing
