// The iPhone family (drivers/ios) against the simulated iPhone (phonesim/ios) behind the fake
// usbmuxd socket, through Debian's libimobiledevice and libusbmuxd as in production, into a
// real evidence store as an extraction session does: the camera roll taken whole and nothing
// else, every hash against the source files; the trust flow with its instructions; the
// pairing forgotten afterwards; and each hostile behaviour ending in a named state, with
// nothing written to the phone. (The same family through Debian's real usbmuxd on the
// emulated USB bus: tests/ios/ios_usb_test.cpp.)
#include <gtest/gtest.h>

#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/sha256.hpp"
#include "daemon/extract/extraction.hpp"
#include "drivers/ios/hosted_ios.hpp"
#include "drivers/ios/ios_driver.hpp"
#include "drivers/shared_storage.hpp"
#include "phonesim/generator.hpp"
#include "phonesim/ios/ios_device.hpp"
#include "phonesim/ios/usbmuxd_socket.hpp"
#include "tests/ios/iphone_fixture.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::testing {
namespace {

namespace fsys = std::filesystem;
namespace sim = phonesim::ios;
using drivers::Category;
using namespace std::chrono_literals;


struct Extraction {
    extract::SessionOutcome outcome;
    std::map<std::string, store::ItemRecord> items;  // by source path
    std::vector<std::string> skipped;                // the audit's details
};

class IosExtraction : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(phonesim::generate_iphone(media_, {.seed = 7}));
    }
    void TearDown() override { ::unsetenv("USBMUXD_SOCKET_ADDRESS"); }

    void start(sim::TrustState trust = sim::TrustState::trusted, sim::IosHostile hostile = {}) {
        sim::IosSettings settings;
        settings.identity.unique_device_id = listed_udid_;
        settings.media_root = media_;
        settings.trust = trust;
        settings.hostile = std::move(hostile);
        auto device = sim::IosDevice::create(std::move(settings));
        ASSERT_TRUE(device) << device.error().describe();
        phone_ = std::move(*device);
        sim::UsbmuxdSocketSettings mux;
        mux.socket_path = dir_ / "usbmuxd.sock";
        mux.pair_record_dir = records_;
        mux.udid = listed_udid_;
        auto socket = sim::UsbmuxdSocket::start(mux, *phone_);
        ASSERT_TRUE(socket) << socket.error().describe();
        mux_ = std::move(*socket);
        ::setenv("USBMUXD_SOCKET_ADDRESS", ("UNIX:" + mux.socket_path.string()).c_str(), 1);
    }

    drivers::Device device() const { return iphone_device(); }

    std::string listed_udid_ = kIphoneUdid;  // the phone the fake usbmuxd lists

    ios::IosDriverOptions quick(ios::IosDriverOptions o = {}) const {
        o.poll = 100ms;
        o.appear = 5s;
        return o;
    }

    // The family as exhibitd registers it (its sessions in exhibit-driver-host, usbmuxd
    // reached through the relay) or in this process.
    virtual bool hosted() const { return false; }
    std::unique_ptr<drivers::Driver> family(const ios::IosDriverOptions& o) const {
        if (hosted())
            return ios::hosted_ios_driver(
                {.program = fsys::path(EXHIBIT_BINARY_DIR) / "bin" / "exhibit-driver-host",
                 .options = o});
        return std::make_unique<ios::IosDriver>(o);
    }

    // Why the phone could not be opened when usbmuxd has 600 ms to list it.
    Error open_unlisted() {
        auto o = quick();
        o.appear = 600ms;
        auto driver = family(o);
        auto opened = open(*driver);
        EXPECT_FALSE(opened) << "the phone was opened";
        return opened ? Error{} : opened.error();
    }

    Result<std::unique_ptr<drivers::DriverSession>> open(const drivers::Driver& driver,
                                                         const drivers::OpenContext& context = {}) {
        return driver.open(device(), context);
    }

    // One extraction session of `scope` into a fresh store over an opened session.
    Extraction run(drivers::DriverSession& session, const drivers::Scope& scope,
                   std::stop_token stop = {}) {
        Extraction x;
        const auto state = dir_ / fmt::format("state{}", ++stores_);
        auto store = store::Store::open({.state_directory = state, .kiosk_id = "ios-test"});
        EXPECT_TRUE(store) << store.error().describe();
        if (!store)
            return x;
        auto case_id = (*store)->catalog().create_case({.case_reference = "CR-IPHONE",
                                                        .exhibit_reference = "EX-1",
                                                        .officer_id = "PC1",
                                                        .scope = extract::scope_to_json(scope)},
                                                       "test");
        auto id = (*store)->catalog().create_session(*case_id, {}, std::nullopt,
                                                     store::Priority::normal, "test");
        x.outcome = extract::run_extraction(**store, session, *id, scope, stop);
        auto items = (*store)->catalog().items_of_session(*id);
        EXPECT_TRUE(items);
        if (items)
            for (auto& i : *items)
                x.items[i.source_path] = i;
        auto stmt = (*store)->database().prepare(
            "SELECT details FROM audit WHERE event = 'extract.artefact_skipped'");
        while (stmt && stmt->step().value_or(false))
            x.skipped.push_back(stmt->column_text(0));
        return x;
    }

    TempDir dir_;
    fsys::path media_ = dir_ / "Media";
    fsys::path records_ = dir_ / "lockdown";
    std::unique_ptr<sim::IosDevice> phone_;
    std::unique_ptr<sim::UsbmuxdSocket> mux_;
    int stores_ = 0;
};

// Every case twice: in this process, and in exhibit-driver-host as exhibitd runs it.
class IosFamily : public IosExtraction, public ::testing::WithParamInterface<bool> {
  protected:
    bool hosted() const override { return GetParam(); }
};

std::string way(bool hosted) {
    return hosted ? "DriverHost" : "InProcess";
}

TEST_P(IosFamily, TakesTheCameraRollWholeAndNothingElse) {
    ASSERT_NO_FATAL_FAILURE(start());
    const auto expected = camera_roll_of(media_);
    ASSERT_GE(expected.size(), 20u);
    {
        auto driver = family(quick());
        auto session = open(*driver);
        ASSERT_TRUE(session) << session.error().describe();
        auto preview = (*session)->preview(kCameraRoll);
        ASSERT_TRUE(preview) << preview.error().describe();
        EXPECT_FALSE(phone_->pairings().empty()) << "paired while the person's consent lasts";
        EXPECT_TRUE((*session)->reusable()) << "a preview leaves the session for the extraction";
        auto x = run(**session, kCameraRoll);
        EXPECT_EQ(x.outcome.state, store::SessionState::completed) << x.outcome.reason.value_or("");
        EXPECT_EQ(x.items.size(), expected.size());
        std::uint64_t photos = 0, videos = 0;
        for (const auto& [path, sha] : expected) {
            auto it = x.items.find(path);
            ASSERT_NE(it, x.items.end()) << "not taken: " << path;
            EXPECT_EQ(it->second.state, store::ItemState::complete) << path;
            EXPECT_EQ(it->second.sha256, sha) << path;
            (drivers::classify_file(fsys::path(path).filename().string()) == Category::photos
                 ? photos
                 : videos)++;
        }
        EXPECT_EQ((*preview)[Category::photos].count, photos);
        EXPECT_EQ((*preview)[Category::videos].count, videos);
        EXPECT_TRUE(x.items.contains(
            "/var/mobile/Media/PhotoData/Mutations/DCIM/100APPLE/IMG_0003/Adjustments/"
            "FullSizeRender.jpg"))
            << "the edited render is taken";
        EXPECT_TRUE(x.skipped.empty()) << x.skipped.front();
        const auto& d = x.outcome.device;
        EXPECT_EQ(d.manufacturer, "Apple");
        EXPECT_EQ(d.model, "iPhone14,5");
        EXPECT_EQ(d.os_version, "iOS 17.1");
        EXPECT_EQ(d.properties.at("ios.UniqueDeviceID"), kIphoneUdid);
        EXPECT_TRUE(phone_->pairings().empty())
            << "the phone forgot the kiosk as the extraction ended, while still plugged in";
        EXPECT_FALSE(fsys::exists(records_ / (kIphoneUdid + ".plist"))) << "usbmuxd's too";
        EXPECT_FALSE((*session)->reusable()) << "another extraction asks for Trust again";
    }
    EXPECT_EQ(phone_->refused_writes(), 0u) << "nothing was written to the phone";
    EXPECT_TRUE(phone_->pairings().empty()) << "the phone forgot the kiosk after the session";
    EXPECT_FALSE(fsys::exists(records_ / (kIphoneUdid + ".plist"))) << "and usbmuxd's record went";
}

TEST_P(IosFamily, AForceMayKeepThePairing) {
    ASSERT_NO_FATAL_FAILURE(start());
    {
        auto o = quick();
        o.keep_pairing = true;
        auto driver = family(o);
        auto session = open(*driver);
        ASSERT_TRUE(session) << session.error().describe();
    }
    EXPECT_EQ(phone_->pairings().size(), 1u);
    EXPECT_TRUE(fsys::exists(records_ / (kIphoneUdid + ".plist")));
}

// A pairing an earlier exhibitd left (killed before it could remove it) is not consent for
// this session: it is removed from the phone and from usbmuxd, and Trust is asked again.
TEST_P(IosFamily, APairingLeftBehindIsRemovedAndTrustAskedAgain) {
    ASSERT_NO_FATAL_FAILURE(start());
    {
        auto o = quick();
        o.keep_pairing = true;  // stands for the exhibitd that could not remove it
        auto earlier = family(o);
        ASSERT_TRUE(open(*earlier));
    }
    ASSERT_EQ(phone_->pairings().size(), 1u);
    const auto left = phone_->pairings().front().host_id;
    std::mutex m;
    std::condition_variable cv;
    std::optional<std::string> asked;
    auto driver = family(quick());
    Result<std::unique_ptr<drivers::DriverSession>> opened = fail(Errc::internal, "not run");
    std::jthread opener([&] {
        opened = open(*driver, {.stop = {}, .report = [&](drivers::DeviceCondition, std::string d) {
                                   std::lock_guard lock(m);
                                   asked = std::move(d);
                                   cv.notify_all();
                               }});
    });
    {
        std::unique_lock lock(m);
        ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return asked.has_value(); }))
            << "the pairing left behind was used without asking";
        EXPECT_EQ(*asked, ios::kTrustInstruction);
    }
    EXPECT_EQ(phone_->trust_book().admit(left), std::optional<std::string>(sim::kInvalidHostId))
        << "the phone no longer knows the earlier pairing";
    phone_->trust();
    opener.join();
    ASSERT_TRUE(opened) << opened.error().describe();
    auto x = run(**opened, kCameraRoll);
    EXPECT_EQ(x.outcome.state, store::SessionState::completed);
}

// The phone gone before the session ends (its usbmuxd with it): ending the session says
// nothing to anyone and returns at once; the pairing left is what the next open removes.
TEST_P(IosFamily, EndingASessionWithThePhoneGoneReturnsAtOnce) {
    ASSERT_NO_FATAL_FAILURE(start());
    auto driver = family(quick());
    auto opened = open(*driver);
    ASSERT_TRUE(opened) << opened.error().describe();
    mux_.reset();
    const auto t0 = std::chrono::steady_clock::now();
    opened->reset();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
    EXPECT_EQ(phone_->pairings().size(), 1u) << "the phone could not be told";
}

TEST_P(IosFamily, TheTrustFlowSaysWhatToDoAndWaitsForThePerson) {
    ASSERT_NO_FATAL_FAILURE(start(sim::TrustState::locked));
    std::mutex m;
    std::condition_variable cv;
    std::vector<std::pair<drivers::DeviceCondition, std::string>> reports;
    auto wait_for = [&](std::string_view instruction) {
        std::unique_lock lock(m);
        return cv.wait_for(lock, 10s, [&] {
            return !reports.empty() && reports.back().second == instruction;
        });
    };
    auto driver = family(quick());
    Result<std::unique_ptr<drivers::DriverSession>> opened = fail(Errc::internal, "not run");
    std::jthread opener([&] {
        opened = open(*driver, {.stop = {}, .report = [&](drivers::DeviceCondition c, std::string d) {
                                   std::lock_guard lock(m);
                                   reports.emplace_back(c, std::move(d));
                                   cv.notify_all();
                               }});
    });
    ASSERT_TRUE(wait_for(ios::kUnlockInstruction));
    EXPECT_EQ(reports.back().first, drivers::DeviceCondition::locked);
    phone_->unlock();
    ASSERT_TRUE(wait_for(ios::kTrustInstruction));
    EXPECT_EQ(reports.back().first, drivers::DeviceCondition::needs_authorisation);
    phone_->deny();
    ASSERT_TRUE(wait_for(ios::kRefusedInstruction));
    phone_->trust();
    opener.join();
    ASSERT_TRUE(opened) << opened.error().describe();
    auto x = run(**opened, kCameraRoll);
    EXPECT_EQ(x.outcome.state, store::SessionState::completed);
    EXPECT_EQ(x.items.size(), camera_roll_of(media_).size());
}

TEST_P(IosFamily, TrustNeverGivenEndsInTime) {
    ASSERT_NO_FATAL_FAILURE(start(sim::TrustState::waiting));
    auto o = quick();
    o.user_wait = 1500ms;
    auto driver = family(o);
    // From "tap Trust" on the screen to the end: the wait asked for, to the millisecond in
    // the driver host too (it once went there in whole seconds: 1 s).
    std::optional<std::chrono::steady_clock::time_point> asked;
    drivers::OpenContext context{.report = [&](drivers::DeviceCondition c, std::string) {
        if (c == drivers::DeviceCondition::needs_authorisation && !asked)
            asked = std::chrono::steady_clock::now();
    }};
    auto opened = open(*driver, context);
    const auto ended = std::chrono::steady_clock::now();
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().code, Errc::timeout);
    EXPECT_NE(opened.error().message.find("Trust was not tapped"), std::string::npos);
    ASSERT_TRUE(asked) << "the person was never asked";
    EXPECT_GE(ended - *asked, 1400ms);  // the report crosses a socket after the wait began
    EXPECT_LT(ended - *asked, 10s);

    // A stop ends the wait at once.
    std::stop_source stop;
    o.user_wait = 60s;
    auto patient = family(o);
    const auto t0 = std::chrono::steady_clock::now();
    std::jthread stopper([&] {
        std::this_thread::sleep_for(300ms);
        stop.request_stop();
    });
    auto stopped = patient->open(device(), {.stop = stop.get_token(), .report = {}});
    ASSERT_FALSE(stopped);
    EXPECT_EQ(stopped.error().code, Errc::cancelled);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

TEST_P(IosFamily, OnlyTheCameraRollIsOffered) {
    ASSERT_NO_FATAL_FAILURE(start());
    auto driver = family(quick());
    auto session = open(*driver);
    ASSERT_TRUE(session) << session.error().describe();
    auto preview = (*session)->preview({.categories = {Category::photos, Category::messages}});
    ASSERT_FALSE(preview);
    EXPECT_EQ(preview.error().code, Errc::unsupported);
    EXPECT_NE(preview.error().message.find("iPhone backup"), std::string::npos)
        << preview.error().message;
}

TEST_P(IosFamily, ALyingSizeMakesThatItemIncompleteWithEveryByte) {
    sim::IosHostile h;
    h.lying_size = sim::LyingSize{.path = "DCIM/100APPLE/IMG_0002.JPG", .delta = 4096};
    ASSERT_NO_FATAL_FAILURE(start(sim::TrustState::trusted, h));
    auto driver = family(quick());
    auto session = open(*driver);
    ASSERT_TRUE(session) << session.error().describe();
    auto x = run(**session, kCameraRoll);
    EXPECT_EQ(x.outcome.state, store::SessionState::completed) << x.outcome.reason.value_or("");
    const auto real = fsys::file_size(media_ / "DCIM/100APPLE/IMG_0002.JPG");
    const auto& item = x.items.at("/var/mobile/Media/DCIM/100APPLE/IMG_0002.JPG");
    EXPECT_EQ(item.state, store::ItemState::incomplete);
    EXPECT_EQ(static_cast<std::uint64_t>(item.size), real);
    EXPECT_NE(item.incomplete_reason.value_or("").find(fmt::format("stated {} bytes and sent {}",
                                                        real + 4096, real)),
              std::string::npos)
        << item.incomplete_reason.value_or("");
    EXPECT_EQ(x.items.size(), camera_roll_of(media_).size()) << "the others are all taken";
}

TEST_P(IosFamily, NamesNoFileCanHaveAreSkippedWithTheirReason) {
    sim::IosHostile h;
    h.evil_names_dir = "DCIM/101APPLE";
    ASSERT_NO_FATAL_FAILURE(start(sim::TrustState::trusted, h));
    auto driver = family(quick());
    auto session = open(*driver);
    ASSERT_TRUE(session) << session.error().describe();
    auto x = run(**session, kCameraRoll);
    EXPECT_EQ(x.outcome.state, store::SessionState::completed) << x.outcome.reason.value_or("");
    std::string all;
    for (const auto& s : x.skipped)
        all += s + "\n";
    EXPECT_NE(all.find("a name containing '/'"), std::string::npos) << all;
    for (const auto& [path, sha] : camera_roll_of(media_))
        EXPECT_TRUE(x.items.contains(path)) << path;
    EXPECT_EQ(phone_->refused_writes(), 0u);
}

struct Broken {
    const char* name;
    std::function<void(sim::IosHostile&, ios::IosDriverOptions&)> set;
    const char* reason;  // in the session's reason
};
void PrintTo(const Broken& b, std::ostream* os) {
    *os << b.name;
}

class IosHostileEnd : public IosExtraction,
                      public ::testing::WithParamInterface<std::tuple<Broken, bool>> {
  protected:
    bool hosted() const override { return std::get<1>(GetParam()); }
    const Broken& broken() const { return std::get<0>(GetParam()); }
};

TEST_P(IosHostileEnd, EndsInterruptedWithANamedReasonInBoundedTime) {
    sim::IosHostile h;
    auto o = quick();
    o.stall = 2s;
    broken().set(h, o);
    ASSERT_NO_FATAL_FAILURE(start(sim::TrustState::trusted, h));
    auto driver = family(o);
    auto session = open(*driver);
    ASSERT_TRUE(session) << session.error().describe();
    const auto t0 = std::chrono::steady_clock::now();
    auto x = run(**session, kCameraRoll);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 60s);
    EXPECT_EQ(x.outcome.state, store::SessionState::interrupted) << x.outcome.reason.value_or("");
    EXPECT_NE(x.outcome.reason.value_or("").find(broken().reason), std::string::npos)
        << x.outcome.reason.value_or("");
    for (const auto& [path, item] : x.items)
        if (item.state == store::ItemState::complete) {
            EXPECT_EQ(item.sha256, camera_roll_of(media_).at(path)) << path;
        }
    EXPECT_EQ(phone_->refused_writes(), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Phones, IosHostileEnd,
    ::testing::Combine(::testing::Values(
        Broken{"endless_folder",
               [](sim::IosHostile& h, ios::IosDriverOptions& o) {
                   h.endless_dir = "DCIM/101APPLE";
                   h.endless_step = 60000;
                   o.limits.max_entries = 50000;
               },
               "more than 50000 entries"},
        Broken{"huge_listing",
               [](sim::IosHostile& h, ios::IosDriverOptions& o) {
                   h.endless_dir = "DCIM/101APPLE";
                   h.endless_step = 20000;
                   o.afc.max_listing_bytes = 64 * 1024;
               },
               "at most 65536 are accepted"},
        Broken{"stall",
               [](sim::IosHostile& h, ios::IosDriverOptions&) { h.stall_after = 40; },
               "sent nothing for 2 s"},
        Broken{"bad_magic",
               [](sim::IosHostile& h, ios::IosDriverOptions&) {
                   h.malformed_afc = sim::MalformedAfc::bad_magic;
                   h.malformed_afc_at = 30;
               },
               "CFA6LPAA"},
        Broken{"impossible_lengths",
               [](sim::IosHostile& h, ios::IosDriverOptions&) {
                   h.malformed_afc = sim::MalformedAfc::this_beyond_entire;
                   h.malformed_afc_at = 30;
               },
               "impossible lengths"}),
                       ::testing::Bool()),
    [](const auto& p) {
        return std::string(std::get<0>(p.param).name) + "_" + way(std::get<1>(p.param));
    });

TEST_P(IosFamily, AStopEndsAStalledReadAtOnce) {
    sim::IosHostile h;
    h.stall_after = 40;
    ASSERT_NO_FATAL_FAILURE(start(sim::TrustState::trusted, h));
    auto o = quick();
    o.stall = 60s;
    auto driver = family(o);
    auto session = open(*driver);
    ASSERT_TRUE(session) << session.error().describe();
    std::stop_source stop;
    std::atomic<std::chrono::steady_clock::time_point> asked{};
    std::jthread stopper([&] {
        std::this_thread::sleep_for(1500ms);
        asked = std::chrono::steady_clock::now();
        stop.request_stop();
        (*session)->interrupt();  // as exhibitd does on a cancel
    });
    auto x = run(**session, kCameraRoll, stop.get_token());
    const auto ended = std::chrono::steady_clock::now();
    stopper.join();
    EXPECT_NE(x.outcome.state, store::SessionState::completed);
    EXPECT_LT(ended - asked.load(), 2s) << "the stalled read ended when asked";
    EXPECT_FALSE((*session)->reusable());
}

TEST_P(IosFamily, AMalformedLockdownAnswerIsANamedErrorNotACrash) {
    sim::IosHostile h;
    h.malformed_lockdown_reply = true;
    ASSERT_NO_FATAL_FAILURE(start(sim::TrustState::trusted, h));
    auto o = quick();
    o.user_wait = 3s;
    auto driver = family(o);
    auto opened = open(*driver);
    ASSERT_FALSE(opened);
    EXPECT_FALSE(opened.error().message.empty());
}

TEST_P(IosFamily, APhoneUsbmuxdDoesNotListIsNamed) {
    listed_udid_ = "00008030-0000000000000001";  // another iPhone
    ASSERT_NO_FATAL_FAILURE(start());
    const auto why = open_unlisted();
    EXPECT_EQ(why.code, Errc::not_found);
    EXPECT_NE(why.message.find("usbmuxd does not list the iPhone " + std::string(kIphoneUdid)),
              std::string::npos)
        << why.describe();
}

// usbmuxd not answering: not running, or stuck in usbmuxd 1.1.1's clean-up after an unplug
// (docs/usb.md, "usbmuxd and an unplug"), which takes libusbmuxd's own wait of about 10 s
// per question; both reach the same words.
TEST_P(IosFamily, UsbmuxdNotAnsweringIsNamed) {
    // No fake usbmuxd at all: the socket does not exist.
    ::setenv("USBMUXD_SOCKET_ADDRESS", ("UNIX:" + (dir_ / "absent.sock").string()).c_str(), 1);
    const auto why = open_unlisted();
    EXPECT_EQ(why.code, Errc::not_found);
    EXPECT_NE(why.message.find("usbmuxd did not answer"), std::string::npos) << why.describe();
    EXPECT_NE(why.message.find("restarting usbmuxd"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(InProcessAndInItsDriverHost, IosFamily, ::testing::Bool(),
                         [](const auto& p) { return way(p.param); });

// What exhibitd gives a child of usbmuxd (the relay of one session): its own phone, the handle
// usbmuxd gave it, connections to that phone's ports, its pair record; anything else ends the
// child with the rule named (Errc::protocol).
TEST_F(IosExtraction, TheRelayGivesTheChildItsOwnPhoneAndNothingElse) {
    using nlohmann::json;
    ASSERT_NO_FATAL_FAILURE(start());
    auto relay = ios::usbmux_relay(kIphoneUdid, /*keep_pairing=*/false);
    auto refused = [&](const json& request, std::string_view says) {
        auto a = relay->answer(request);
        if (a)
            return ::testing::AssertionFailure() << request.dump() << " was answered";
        if (a.error().code != Errc::protocol || a.error().message.find(says) == std::string::npos)
            return ::testing::AssertionFailure() << a.error().describe();
        return ::testing::AssertionSuccess();
    };
    EXPECT_TRUE(refused({{"call", "connect"}, {"handle", 1}, {"port", 62078}},
                        "a device it was not given"))
        << "no handle before usbmuxd named the phone";
    auto device = relay->answer({{"call", "get_device"}, {"udid", kIphoneUdid}});
    ASSERT_TRUE(device) << device.error().describe();
    ASSERT_EQ(device->result.at("result"), 1) << device->result.dump();
    const auto handle = device->result.at("handle").get<std::uint64_t>();
    auto lockdown = relay->answer({{"call", "connect"}, {"handle", handle}, {"port", 62078}});
    ASSERT_TRUE(lockdown) << lockdown.error().describe();
    EXPECT_EQ(lockdown->result.at("result"), 0);
    EXPECT_TRUE(lockdown->pass) << "the connection to the phone's lockdown, for the child";

    const std::string other = "00008101-FFFFFFFFFFFFFFFF";
    EXPECT_TRUE(refused({{"call", "get_device"}, {"udid", other}}, "another phone"));
    EXPECT_TRUE(refused({{"call", "read_pair_record"}, {"udid", other}}, "another phone"));
    EXPECT_TRUE(refused({{"call", "delete_pair_record"}, {"udid", other}}, "another phone"));
    EXPECT_TRUE(refused({{"call", "connect"}, {"handle", handle + 1}, {"port", 62078}},
                        "a device it was not given"));
    EXPECT_TRUE(refused({{"call", "connect"}, {"handle", handle}, {"port", 0}},
                        "a port that is not one"));
    EXPECT_TRUE(refused({{"call", "connect"}, {"handle", handle}}, "without a handle and a port"));
    EXPECT_TRUE(refused({{"call", "get_device_list"}, {"udid", kIphoneUdid}},
                        "which it is not given"));
    EXPECT_TRUE(refused({{"call", "save_pair_record"}, {"udid", kIphoneUdid},
                         {"device_id", handle + 1}, {"record", "cGFpcg=="}},
                        "a device it was not given"));
    EXPECT_TRUE(refused({{"call", "save_pair_record"}, {"udid", kIphoneUdid},
                         {"device_id", handle}, {"record", "not base64!"}},
                        "not base64"));
    EXPECT_TRUE(refused({{"call", "save_pair_record"}, {"udid", kIphoneUdid},
                         {"device_id", handle}, {"record", std::string(100'000, 'A')}},
                        "longer than"));
    EXPECT_TRUE(refused({{"udid", kIphoneUdid}}, "no text \"call\""));
    // At most 256 connections in a session (one is made above).
    for (int i = 1; i < 256; ++i)
        ASSERT_TRUE(relay->answer({{"call", "connect"}, {"handle", handle}, {"port", 62078}}));
    EXPECT_TRUE(refused({{"call", "connect"}, {"handle", handle}, {"port", 62078}},
                        "more than 256 connections"));
}

}  // namespace
}  // namespace exhibit::testing
