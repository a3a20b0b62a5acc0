// The registry of device families: a device finds the family serving one of its functions,
// whatever order the device lists them in; a function is never served twice.
#include "drivers/driver_registry.hpp"

#include <gtest/gtest.h>

namespace exhibit::drivers {
namespace {

class Named final : public Driver {
  public:
    Named(std::string name, std::vector<Function> serves)
        : name_(std::move(name)), serves_(std::move(serves)) {}
    std::string_view name() const override { return name_; }
    std::string_view version() const override { return "0"; }
    std::span<const Function> serves() const override { return serves_; }
    Result<std::unique_ptr<DriverSession>> open(const Device&, const OpenContext&) const override {
        return fail(Errc::unsupported, "never opens");
    }

  private:
    std::string name_;
    std::vector<Function> serves_;
};

std::unique_ptr<Driver> named(std::string name, std::vector<Function> serves) {
    return std::make_unique<Named>(std::move(name), std::move(serves));
}

const Function kUsbAdb{"usb:adb"}, kTcpAdb{"tcp:adb"}, kUsbMtp{"usb:mtp"},
    kUsbStorage{"usb:mass_storage"};

TEST(DriverRegistry, ADeviceFindsTheFamilyServingOneOfItsFunctions) {
    DriverRegistry registry;
    ASSERT_TRUE(registry.add(named("adb", {kUsbAdb, kTcpAdb})));
    ASSERT_TRUE(registry.add(named("mtp", {kUsbMtp})));
    // A phone with MTP and ADB side by side (in interface order) is ADB's: registered first.
    const auto* both = registry.find(std::vector{kUsbMtp, kUsbAdb});
    ASSERT_NE(both, nullptr);
    EXPECT_EQ(both->name(), "adb");
    EXPECT_EQ(registry.find(std::vector{kUsbMtp})->name(), "mtp");
    EXPECT_EQ(registry.find(Device{.functions = {kTcpAdb}})->name(), "adb");
    EXPECT_EQ(registry.find(std::vector{kUsbStorage}), nullptr) << "nobody serves a stick yet";
    EXPECT_EQ(registry.find(std::vector<Function>{}), nullptr);
    ASSERT_EQ(registry.all().size(), 2u);
    EXPECT_EQ(registry.all()[1]->name(), "mtp");
}

TEST(DriverRegistry, AFunctionIsServedOnce) {
    DriverRegistry registry;
    ASSERT_TRUE(registry.add(named("adb", {kUsbAdb, kTcpAdb})));
    auto twice = registry.add(named("other", {kUsbStorage, kTcpAdb}));
    ASSERT_FALSE(twice);
    EXPECT_EQ(twice.error().code, Errc::exists);
    EXPECT_NE(twice.error().message.find("tcp:adb is already served by driver adb"),
              std::string::npos)
        << twice.error().message;
    EXPECT_EQ(registry.find(std::vector{kUsbStorage}), nullptr) << "the refused family is not in";
    EXPECT_EQ(registry.add(named("", {kUsbMtp})).error().code, Errc::invalid_argument);
    EXPECT_EQ(registry.add(named("empty", {})).error().code, Errc::invalid_argument);
    EXPECT_EQ(registry.add(nullptr).error().code, Errc::invalid_argument);
}

TEST(DriverRegistry, ConditionsHaveTheDeviceStateNames) {
    EXPECT_EQ(to_string(DeviceCondition::needs_authorisation), "needs_authorisation");
    EXPECT_EQ(to_string(DeviceCondition::locked), "locked");
    EXPECT_EQ(to_string(DeviceCondition::unsupported), "unsupported");
    Device d{.functions = {kUsbMtp, kUsbAdb}};
    EXPECT_TRUE(d.offers(kUsbAdb));
    EXPECT_FALSE(d.offers(kTcpAdb));
}

}  // namespace
}  // namespace exhibit::drivers
