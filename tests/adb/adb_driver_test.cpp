// The ADB family behind the driver interface, against exhibit-phonesim over TCP: a device
// described by its address opens into a session that reads, previews and stays reusable;
// while the phone waits for its owner the driver reports needs_authorisation, and a stop
// request ends the wait at once; interrupt() ends a session for good. Every test runs twice:
// in process, and in exhibit-driver-host as exhibitd registers the family (the network link
// connected by the caller and handed to the child, the phone's AUTH token signed by the
// caller's key).
#include "drivers/adb/adb_driver.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <thread>

#include "drivers/adb/hosted_adb.hpp"
#include "tests/support/phonesim.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit {
namespace {

using namespace std::chrono_literals;
using drivers::Category;
using drivers::DeviceCondition;

class AdbDriverTest : public ::testing::TestWithParam<bool> {
  protected:
    void SetUp() override {
        std::filesystem::create_directories(phone_ / "DCIM");
        std::ofstream(phone_ / "DCIM/a.jpg") << "jpeg";
        std::ofstream(phone_ / "DCIM/b.jpg") << "jpeg too";
        auto key = adb::AdbHostKey::load_or_create(keys_.path(), "exhibit@driver-test");
        ASSERT_TRUE(key) << key.error().describe();
        key_ = std::move(*key);
    }

    std::unique_ptr<drivers::Driver> driver(std::chrono::seconds user_wait = 20s) {
        if (GetParam())
            return adb::hosted_adb_driver(
                {.program = std::filesystem::path(EXHIBIT_BINARY_DIR) / "bin" /
                            "exhibit-driver-host",
                 .host_key = key_,
                 .user_wait = user_wait});
        return std::make_unique<adb::AdbDriver>(
            adb::AdbDriverOptions{.host_key = key_, .user_wait = user_wait});
    }

    static drivers::Device network_phone(const testing::PhoneSim& sim) {
        return {.id = "d1", .functions = {adb::tcp_function()}, .address = "tcp:" + sim.address()};
    }

    testing::TempDir phone_;
    testing::TempDir keys_;
    std::shared_ptr<const adb::AdbHostKey> key_;
};

TEST_P(AdbDriverTest, ServesUsbAndTcpAdbAndOpensANetworkPhone) {
    auto d = driver();
    EXPECT_EQ(d->name(), "adb");
    ASSERT_EQ(d->serves().size(), 2u);
    EXPECT_EQ(d->serves()[0].name, "usb:adb");
    EXPECT_EQ(d->serves()[1].name, "tcp:adb");

    testing::PhoneSim sim({"--root", phone_.path().string(), "--model", "Pixel Driver"});
    ASSERT_TRUE(sim.ok());
    std::vector<DeviceCondition> reported;
    drivers::OpenContext context{
        .report = [&](DeviceCondition c, std::string) { reported.push_back(c); }};
    auto session = d->open(network_phone(sim), context);
    ASSERT_TRUE(session) << session.error().describe();
    EXPECT_TRUE(reported.empty()) << "a phone that needs nobody reports nothing";
    auto info = (*session)->device_info();
    ASSERT_TRUE(info) << info.error().describe();
    EXPECT_EQ(info->model, "Pixel Driver");
    auto preview = (*session)->preview({.categories = {Category::photos}});
    ASSERT_TRUE(preview) << preview.error().describe();
    EXPECT_EQ((*preview)[Category::photos].count, 2u);
    EXPECT_EQ((*preview)[Category::photos].bytes, 12u);
    EXPECT_TRUE((*session)->reusable()) << "the link serves the next preview or extraction";

    (*session)->interrupt();
    EXPECT_FALSE((*session)->reusable());
    EXPECT_FALSE((*session)->device_info()) << "an interrupted session fails every call";
}

TEST_P(AdbDriverTest, ReportsTheOwnersPromptAndAStopEndsTheWait) {
    auto keys = phone_.path().parent_path() / ("adb_keys_" + std::to_string(::getpid()));
    std::ofstream(keys) << "";
    testing::PhoneSim sim(
        {"--root", phone_.path().string(), "--auth", "require", "--adb-keys", keys.string()});
    ASSERT_TRUE(sim.ok());
    auto d = driver();
    std::stop_source stop;
    std::promise<std::string> prompt;
    drivers::OpenContext context{.stop = stop.get_token(),
                                 .report = [&](DeviceCondition c, std::string detail) {
                                     EXPECT_EQ(c, DeviceCondition::needs_authorisation);
                                     prompt.set_value(detail);
                                 }};
    auto opening =
        std::async(std::launch::async, [&] { return d->open(network_phone(sim), context); });
    auto shown = prompt.get_future();
    ASSERT_EQ(shown.wait_for(10s), std::future_status::ready) << "the prompt was not reported";
    EXPECT_EQ(shown.get(), "waiting for the person to allow this kiosk on the phone");
    auto t0 = std::chrono::steady_clock::now();
    stop.request_stop();
    ASSERT_EQ(opening.wait_for(2s), std::future_status::ready) << "the stop did not end the wait";
    auto opened = opening.get();
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().code, Errc::cancelled) << opened.error().describe();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
    std::filesystem::remove(keys);
}

// A phone that asks for AUTH and knows the kiosk's key takes the token's signature: in the
// driver host the signature is made by the caller's key, which the child never holds. (A
// phone that does not know it rejects the signature and is offered the key: the test above.)
TEST_P(AdbDriverTest, APhoneThatKnowsTheKioskTakesItsSignature) {
    auto keys = phone_.path().parent_path() / ("adb_keys_known_" + std::to_string(::getpid()));
    std::ofstream(keys) << key_->public_key_line() << "\n";
    testing::PhoneSim sim({"--root", phone_.path().string(), "--auth", "require", "--adb-keys",
                           keys.string(), "--model", "Pixel Signed"});
    ASSERT_TRUE(sim.ok());
    auto d = driver();
    std::vector<DeviceCondition> reported;
    auto session = d->open(network_phone(sim), {.report = [&](DeviceCondition c, std::string) {
                               reported.push_back(c);
                           }});
    ASSERT_TRUE(session) << session.error().describe();
    EXPECT_TRUE(reported.empty()) << "a phone that knows the kiosk asks nobody";
    auto info = (*session)->device_info();
    ASSERT_TRUE(info) << info.error().describe();
    EXPECT_EQ(info->model, "Pixel Signed");

    std::filesystem::remove(keys);
}

TEST_P(AdbDriverTest, ADeviceWithoutAdbIsNotOpened) {
    auto d = driver();
    drivers::Device mtp{.id = "d2", .functions = {{"usb:mtp"}}, .address = "usb:1-2"};
    auto opened = d->open(mtp, {});
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().code, Errc::unsupported);
    drivers::Device bad{.id = "d3", .functions = {adb::tcp_function()}, .address = "tcp:nowhere"};
    EXPECT_EQ(d->open(bad, {}).error().code, Errc::invalid_argument);
    std::stop_source stopped;
    stopped.request_stop();
    drivers::Device closed{
        .id = "d4", .functions = {adb::tcp_function()}, .address = "tcp:127.0.0.1:9"};
    EXPECT_FALSE(d->open(closed, {.stop = stopped.get_token()}));
}

INSTANTIATE_TEST_SUITE_P(InProcessAndInItsDriverHost, AdbDriverTest, ::testing::Bool(),
                         [](const auto& p) {
                             return p.param ? std::string("DriverHost")
                                            : std::string("InProcess");
                         });

}  // namespace
}  // namespace exhibit
