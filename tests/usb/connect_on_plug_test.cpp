// exhibitd's core contacts a phone the moment it is plugged in, on an emulated USB bus with
// phonesim's engine behind the ADB interface: its state is known before anyone asks
// (needs_authorisation while the person must allow this kiosk, then ready); the open link
// serves the next preview and extraction without a second connection or prompt; a request
// that comes while the phone still waits for its owner waits too instead of failing busy;
// unplug, cancel and shutdown still end everything at once.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "tests/usb/usb_kiosk.hpp"

namespace exhibit {
namespace {

using namespace std::chrono_literals;
using devices::DeviceState;
using drivers::Category;

class ConnectOnPlug : public testing::UsbKiosk {
  protected:
    void SetUp() override {
        UsbKiosk::SetUp();
        for (int i = 0; i < 3; ++i)
            testing::write_random_file(phone_ / ("DCIM/IMG_" + std::to_string(i) + ".jpg"),
                                       50'000u + i, static_cast<unsigned>(i));
    }

    // A phone whose owner must allow this kiosk (allow() taps Allow).
    usbsim::EmulatedDevice* plug_asking_phone(std::uint8_t port) {
        auto keys = keys_dir_ / "adb_keys";
        std::ofstream(keys) << "";
        auto options = phonesim::make_phone({.root = phone_.path(),
                                             .adb_keys = keys,
                                             .serial = "ASKING",
                                             .model = "Pixel Ask",
                                             .auth = "require"});
        EXPECT_TRUE(options) << options.error().describe();
        if (!options)
            return nullptr;
        asking_ = std::make_shared<phonesim::PhoneOptions>(std::move(*options));
        auto d = bus_->plug(testing::usb_phone_spec("ASKING"), port,
                            [shared = asking_](adb::Transport& t) {
                                phonesim::DeviceEngine engine(*shared);
                                (void)engine.serve(t);
                            });
        EXPECT_TRUE(d) << d.error().describe();
        return d ? *d : nullptr;
    }
    // The person taps Allow once the phone shows its prompt, i.e. once the kiosk's key has
    // reached the phone (the kiosk may report the wait a moment before).
    void allow() {
        std::size_t allowed = 0;
        for (auto deadline = std::chrono::steady_clock::now() + 5s;
             allowed == 0 && std::chrono::steady_clock::now() < deadline;
             std::this_thread::sleep_for(10ms))
            allowed = asking_->keys->allow_pending();
        ASSERT_EQ(allowed, 1u) << "the phone never received the kiosk's key";
    }

    bool wait_state(const std::string& id, DeviceState state, std::chrono::milliseconds timeout) {
        return run_until(
            [&] {
                const auto* d = registry_.find(id);
                return d && d->state == state;
            },
            timeout);
    }

    // Runs a preview through the manager, as the bus does.
    Result<drivers::Preview> preview(const std::string& id, drivers::Scope scope) {
        std::optional<Result<drivers::Preview>> answer;
        sessions_->preview(id, scope, [&](Result<drivers::Preview> r) { answer = std::move(r); });
        run_until([&] { return answer.has_value(); }, 30s);
        if (!answer)
            return fail(Errc::timeout, "the preview did not answer");
        return std::move(*answer);
    }

    testing::TempDir phone_;
    testing::TempDir keys_dir_;
    std::shared_ptr<phonesim::PhoneOptions> asking_;
};

TEST_F(ConnectOnPlug, TheLinkOpenedOnPlugServesThePreviewAndTheExtraction) {
    ASSERT_NO_FATAL_FAILURE(start_core());
    auto* phone = plug_phone(phone_.path(), "ONCE", 1);
    ASSERT_TRUE(phone);
    const auto* d = wait_device("usb:1-1");
    ASSERT_TRUE(d);
    const auto id = d->id;
    ASSERT_TRUE(wait_state(id, DeviceState::ready, 2s)) << "not contacted on arrival";
    EXPECT_EQ(phone->stats().connections, 1u);

    auto counts = preview(id, {.categories = {Category::photos}});
    ASSERT_TRUE(counts) << counts.error().describe();
    EXPECT_EQ((*counts)[Category::photos].count, 3u);
    EXPECT_EQ(registry_.find(id)->state, DeviceState::ready);

    auto session = start_session(id, {.categories = {Category::photos}});
    ASSERT_TRUE(session) << session.error().describe();
    auto end = wait_session(*session, 30s);
    ASSERT_TRUE(end);
    EXPECT_EQ(end->state, store::SessionState::completed) << end->reason.value_or("");
    EXPECT_EQ(items_of(*session).size(), 3u);
    EXPECT_EQ(registry_.find(id)->state, DeviceState::ready);
    EXPECT_EQ(phone->stats().connections, 1u)
        << "the contact, the preview and the extraction share one connection";
}

TEST_F(ConnectOnPlug, ARequestWhileThePhoneAsksItsOwnerWaitsForTheSameConnection) {
    ASSERT_NO_FATAL_FAILURE(start_core());
    auto* phone = plug_asking_phone(2);
    ASSERT_TRUE(phone);
    const auto* d = wait_device("usb:1-2");
    ASSERT_TRUE(d);
    const auto id = d->id;
    ASSERT_TRUE(wait_state(id, DeviceState::needs_authorisation, 5s))
        << "the phone's prompt was not shown before anyone asked";
    EXPECT_EQ(registry_.find(id)->detail,
              "waiting for the person to allow this kiosk on the phone");

    auto session = start_session(id, {.categories = {Category::photos}});
    ASSERT_TRUE(session) << "not busy: it waits for the contact: " << session.error().describe();
    run_until([] { return false; }, 200ms);
    EXPECT_EQ(registry_.find(id)->state, DeviceState::needs_authorisation)
        << "the prompt stays shown while the extraction waits";
    auto second = preview(id, {.categories = {Category::photos}});
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, Errc::exists) << "one job at a time";
    EXPECT_FALSE(ended_.contains(*session));

    ASSERT_NO_FATAL_FAILURE(allow());
    auto end = wait_session(*session, 30s);
    ASSERT_TRUE(end) << "the waiting extraction did not run once allowed";
    EXPECT_EQ(end->state, store::SessionState::completed) << end->reason.value_or("");
    EXPECT_EQ(items_of(*session).size(), 3u);
    EXPECT_EQ(registry_.find(id)->state, DeviceState::ready);
    EXPECT_EQ(phone->stats().connections, 1u) << "no second connection, so no second prompt";
}

TEST_F(ConnectOnPlug, UnplugWhileThePhoneAsksEndsTheWaitingSessionAtOnce) {
    ASSERT_NO_FATAL_FAILURE(start_core());
    auto* phone = plug_asking_phone(3);
    ASSERT_TRUE(phone);
    const auto* d = wait_device("usb:1-3");
    ASSERT_TRUE(d);
    const auto id = d->id;
    ASSERT_TRUE(wait_state(id, DeviceState::needs_authorisation, 5s));
    auto session = start_session(id, {.categories = {Category::photos}});
    ASSERT_TRUE(session) << session.error().describe();
    auto t0 = std::chrono::steady_clock::now();
    bus_->unplug(*phone);
    auto end = wait_session(*session, 2s);
    ASSERT_TRUE(end) << "the unplug did not end the waiting session";
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
    EXPECT_EQ(end->state, store::SessionState::interrupted);
    EXPECT_EQ(end->reason, "interrupted: device disconnected");
    EXPECT_EQ(store_->catalog().session(*session).value().state, store::SessionState::interrupted);
    EXPECT_EQ(registry_.find(id), nullptr);
}

TEST_F(ConnectOnPlug, CancelWhileThePhoneAsksEndsTheSessionAndTheContactGoesOn) {
    ASSERT_NO_FATAL_FAILURE(start_core());
    auto* phone = plug_asking_phone(4);
    ASSERT_TRUE(phone);
    const auto* d = wait_device("usb:1-4");
    ASSERT_TRUE(d);
    const auto id = d->id;
    ASSERT_TRUE(wait_state(id, DeviceState::needs_authorisation, 5s));
    auto session = start_session(id, {.categories = {Category::photos}});
    ASSERT_TRUE(session) << session.error().describe();
    ASSERT_TRUE(sessions_->cancel(*session));
    auto end = wait_session(*session, 1s);
    ASSERT_TRUE(end) << "the cancel did not end the waiting session at once";
    EXPECT_EQ(end->state, store::SessionState::cancelled);
    EXPECT_EQ(store_->catalog().session(*session).value().state, store::SessionState::cancelled);

    // The person still allows the kiosk: the phone is ready for the next request, on the
    // same connection.
    ASSERT_NO_FATAL_FAILURE(allow());
    ASSERT_TRUE(wait_state(id, DeviceState::ready, 10s));
    auto next = start_session(id, {.categories = {Category::photos}});
    ASSERT_TRUE(next) << next.error().describe();
    auto done = wait_session(*next, 30s);
    ASSERT_TRUE(done);
    EXPECT_EQ(done->state, store::SessionState::completed) << done->reason.value_or("");
    EXPECT_EQ(phone->stats().connections, 1u);
}

TEST_F(ConnectOnPlug, ShutdownWhileThePhoneAsksIsPrompt) {
    ASSERT_NO_FATAL_FAILURE(start_core());
    ASSERT_TRUE(plug_asking_phone(5));
    const auto* d = wait_device("usb:1-5");
    ASSERT_TRUE(d);
    ASSERT_TRUE(wait_state(d->id, DeviceState::needs_authorisation, 5s));
    auto session = start_session(d->id, {.categories = {Category::photos}});
    ASSERT_TRUE(session) << session.error().describe();
    auto t0 = std::chrono::steady_clock::now();
    sessions_.reset();  // as exhibitd stops
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s) << "the wait for the owner held it";
    auto row = store_->catalog().session(*session).value();
    EXPECT_EQ(row.state, store::SessionState::interrupted);
    EXPECT_EQ(row.state_reason, "interrupted: exhibitd stopped");
}

}  // namespace
}  // namespace exhibit
