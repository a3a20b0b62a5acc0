// An iPhone at the kiosk as the officer meets it: exhibit-phonesim --usb --iphone plugs the
// simulated iPhone into the emulated bus and starts Debian's usbmuxd on it; a real exhibitd
// on a private D-Bus bus reaches the phone through that usbmuxd; exhibitctl shows each state
// of the trust flow with its instruction while the person unlocks the phone, taps Don't Trust
// and then Trust, and the camera roll arrives with every hash; the phone forgets the kiosk as
// the extraction ends, so the next one asks for Trust again. An exhibitd killed in the
// middle and started again asks for Trust again: the earlier consent is not reused.
#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <thread>

#include <nlohmann/json.hpp>

#include "daemon/store/store.hpp"
#include "phonesim/generator.hpp"
#include "tests/ios/iphone_fixture.hpp"
#include "tests/support/kiosk_on_usb.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::testing {
namespace {

using namespace std::chrono_literals;
namespace fsys = std::filesystem;

const std::vector<std::string> kExtract = KioskOnUsb::extract_d1("CR/IOS/1", "photos,videos");

// Waits until exhibitctl shows d1 in `state` with `detail`; what it showed last otherwise.
::testing::AssertionResult shows(KioskOnUsb& kiosk, std::string_view state,
                                 std::string_view detail, std::chrono::milliseconds timeout = 30s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    KioskOnUsb::DeviceView seen;
    while (std::chrono::steady_clock::now() < deadline) {
        seen = kiosk.device("d1");
        if (seen.state == state && seen.detail == detail)
            return ::testing::AssertionSuccess();
        std::this_thread::sleep_for(50ms);
    }
    return ::testing::AssertionFailure()
           << "exhibitctl showed \"" << seen.state << "\" / \"" << seen.detail << "\", not \""
           << state << "\" / \"" << detail << "\"";
}

// An extraction through exhibitctl that the phone asks Trust for first (`why`: what it means
// when it does not), then the person taps Trust; exhibitctl's status and output.
std::pair<int, std::string> extract_after_trust(KioskOnUsb& kiosk, std::string_view why) {
    auto extraction = std::async(std::launch::async, [&] { return kiosk.ctl(kExtract, 180); });
    EXPECT_TRUE(shows(kiosk, "needs_authorisation", ios::kTrustInstruction)) << why;
    kiosk.send("trust");
    if (extraction.wait_for(170s) != std::future_status::ready)
        return {-1, "exhibitctl extract did not end"};
    return extraction.get();
}

// Every camera-roll item of `session` is complete with the source's SHA-256, and nothing
// else was taken.
void expect_camera_roll(const fsys::path& state, std::int64_t session, const fsys::path& media) {
    auto store = store::Store::open({.state_directory = state, .kiosk_id = "usb-kiosk"});
    ASSERT_TRUE(store) << store.error().describe();
    auto items = (*store)->catalog().items_of_session(session);
    ASSERT_TRUE(items) << items.error().describe();
    const auto expected = camera_roll_of(media);
    ASSERT_EQ(items->size(), expected.size());
    for (const auto& item : *items) {
        auto it = expected.find(item.source_path);
        ASSERT_NE(it, expected.end()) << item.source_path << " is not in the camera roll";
        EXPECT_EQ(item.state, store::ItemState::complete) << item.source_path;
        EXPECT_EQ(item.sha256, it->second) << item.source_path;
    }
}

TEST(IphoneAtTheKiosk, ExhibitctlShowsEachTrustStateThenTheCameraRollArrives) {
    TempDir dir;
    const auto media = dir / "Media";
    ASSERT_TRUE(phonesim::generate_iphone(media, {.seed = 11}));
    KioskOnUsb kiosk(dir.path(), {"--iphone", "--root", media.string(), "--trust", "locked"});
    ASSERT_TRUE(kiosk.ok()) << "phonesim, usbmuxd or exhibitd did not start";
    ASSERT_TRUE(kiosk.expect("USB device d1 classified as apple:", 20s));

    auto extraction = std::async(std::launch::async, [&] { return kiosk.ctl(kExtract, 180); });
    // A locked phone: the officer is told to have it unlocked.
    EXPECT_TRUE(shows(kiosk, "locked", ios::kUnlockInstruction));
    kiosk.send("unlock");
    EXPECT_TRUE(shows(kiosk, "needs_authorisation", ios::kTrustInstruction));
    // Don't Trust: said as such (the kiosk keeps asking; a real phone asks again at replug).
    kiosk.send("deny");
    EXPECT_TRUE(shows(kiosk, "needs_authorisation", ios::kRefusedInstruction, 10s));
    EXPECT_TRUE(shows(kiosk, "needs_authorisation", ios::kTrustInstruction, 10s));
    kiosk.send("trust");
    ASSERT_EQ(extraction.wait_for(120s), std::future_status::ready);
    auto done = extraction.get();
    EXPECT_EQ(done.first, 0) << done.second;

    // Messages are not offered by an iPhone over USB, and the officer is told why.
    auto messages = kiosk.ctl({"preview", "d1", "--categories", "messages"});
    EXPECT_NE(messages.first, 0) << messages.second;
    EXPECT_NE(messages.second.find("iPhone backup"), std::string::npos) << messages.second;

    auto receipt = kiosk.ctl({"receipt", "1", "--json"});
    ASSERT_EQ(receipt.first, 0) << receipt.second;
    auto r = nlohmann::json::parse(receipt.second, nullptr, false);
    ASSERT_TRUE(r.is_object()) << receipt.second;
    EXPECT_EQ(r.value("state", ""), "completed") << receipt.second;
    EXPECT_EQ(r.value("items", 0), static_cast<int>(camera_roll_of(media).size()));

    // The phone forgot the kiosk as the extraction ended, still plugged in: another
    // extraction asks for Trust again.
    auto second =
        extract_after_trust(kiosk, "the phone still trusted the kiosk after the extraction");
    EXPECT_EQ(second.first, 0) << second.second;
    ASSERT_EQ(kiosk.stop(), 0);
    expect_camera_roll(kiosk.state(), 1, media);
    expect_camera_roll(kiosk.state(), 2, media);
}

TEST(IphoneAtTheKiosk, ARestartedExhibitdAsksForTrustAgain) {
    TempDir dir;
    const auto media = dir / "Media";
    ASSERT_TRUE(phonesim::generate_iphone(media, {.seed = 12, .large = true}));
    KioskOnUsb kiosk(dir.path(), {"--iphone", "--root", media.string()}, true);
    ASSERT_TRUE(kiosk.ok());
    ASSERT_TRUE(kiosk.expect("USB device d1 classified as apple:", 20s));
    auto first = std::async(std::launch::async, [&] { return kiosk.ctl(kExtract, 180); });
    ASSERT_TRUE(shows(kiosk, "needs_authorisation", ios::kTrustInstruction));
    kiosk.send("trust");
    // The 512 MiB video takes a while on the emulated bus: exhibitd dies during it, with its
    // pairing left on the phone and in usbmuxd.
    ASSERT_TRUE(kiosk.expect("session 1: extracting", 30s)) << "the extraction did not start";
    std::this_thread::sleep_for(1500ms);
    auto [status, pids] = run_command({"pgrep", "-P", std::to_string(kiosk.daemon_pid()),
                                       "-x", "exhibitd"},
                                      5s);
    ASSERT_EQ(status, 0) << "no exhibitd under the restarting shell";
    ASSERT_EQ(::kill(std::stoi(pids), SIGKILL), 0);
    ASSERT_TRUE(kiosk.expect("exhibitd ended", 10s));
    EXPECT_NE(first.get().first, 0) << "the first extraction cannot have ended well";
    ASSERT_TRUE(kiosk.expect("started: kiosk", 20s)) << "exhibitd did not start again";

    // The new exhibitd finds the phone still plugged in, and the phone still paired with
    // the kiosk: it removes that pairing and asks the person again.
    ASSERT_TRUE(kiosk.expect("USB device d1 classified as apple:", 20s));
    auto done = extract_after_trust(kiosk, "the earlier Trust was reused");
    EXPECT_EQ(done.first, 0) << done.second;
    // The cut-short session says so, with what it had finished kept.
    auto cut = kiosk.ctl({"receipt", "1", "--json"});
    auto r = nlohmann::json::parse(cut.second, nullptr, false);
    ASSERT_TRUE(r.is_object()) << cut.second;
    EXPECT_EQ(r.value("state", ""), "interrupted") << cut.second;
    ASSERT_EQ(kiosk.stop(), 0);
    expect_camera_roll(kiosk.state(), 2, media);
}

// A hostile iPhone from the command line (--scenario): a file whose stated size is a lie and
// a folder listing names no file system has. The lie makes that one item incomplete with
// every byte and the reason, the bad names are skipped, the rest arrives whole, and exhibitd
// carries on answering.
TEST(IphoneAtTheKiosk, AHostileIphoneFromTheCommandLineEndsInNamedStates) {
    TempDir dir;
    const auto media = dir / "Media";
    ASSERT_TRUE(phonesim::generate_iphone(media, {.seed = 13}));
    const std::string liar = "DCIM/100APPLE/IMG_0001.JPG";
    std::ofstream(dir / "hostile.json")
        << R"({"lying_size": {"path": ")" << liar
        << R"(", "delta": 4096}, "evil_names_dir": "DCIM/101APPLE"})";
    KioskOnUsb kiosk(dir.path(), {"--iphone", "--root", media.string(), "--trust", "trusted",
                                  "--scenario", (dir / "hostile.json").string()});
    ASSERT_TRUE(kiosk.ok());
    ASSERT_TRUE(kiosk.expect("USB device d1 classified as apple:", 20s));
    auto done = kiosk.ctl(kExtract, 180);
    EXPECT_EQ(done.first, 0) << done.second;
    auto status = kiosk.ctl({"status"});
    EXPECT_EQ(status.first, 0) << "exhibitd stopped answering: " << status.second;
    ASSERT_EQ(kiosk.stop(), 0);

    auto store = store::Store::open({.state_directory = kiosk.state(), .kiosk_id = "usb-kiosk"});
    ASSERT_TRUE(store) << store.error().describe();
    auto items = (*store)->catalog().items_of_session(1);
    ASSERT_TRUE(items) << items.error().describe();
    const auto expected = camera_roll_of(media);
    ASSERT_EQ(items->size(), expected.size()) << "the bad names are not taken";
    const std::string liar_path = "/var/mobile/Media/" + liar;
    for (const auto& item : *items) {
        ASSERT_TRUE(expected.contains(item.source_path)) << item.source_path;
        EXPECT_EQ(item.sha256, expected.at(item.source_path))
            << item.source_path << ": every byte the phone sent is kept";
        if (item.source_path == liar_path) {
            EXPECT_EQ(item.state, store::ItemState::incomplete);
            EXPECT_NE(item.incomplete_reason.value_or("").find("size mismatch: the phone stated"),
                      std::string::npos)
                << item.incomplete_reason.value_or("(no reason)");
        } else {
            EXPECT_EQ(item.state, store::ItemState::complete) << item.source_path;
        }
    }
    auto stmt = (*store)->database().prepare(
        "SELECT details FROM audit WHERE event = 'extract.artefact_skipped'");
    std::string skipped;
    while (stmt && stmt->step().value_or(false))
        skipped += stmt->column_text(0) + "\n";
    EXPECT_NE(skipped.find("a name containing '/'"), std::string::npos)
        << "a name no file can have is skipped with its reason: " << skipped;
}

}  // namespace
}  // namespace exhibit::testing
