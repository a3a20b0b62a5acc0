// The MTP family end to end: exhibitd's core in-process (registry, session manager, store)
// with the ADB and MTP drivers registered as exhibitd registers them, and a phone on the
// emulated USB bus that offers only MTP (USB debugging off), answered by phonesim's MTP
// responder. The real libmtp reads it: every item's sha256 equals the source file's, the
// preview counts what the extraction takes, a locked phone is a device state with its
// instruction until it is unlocked, messages are refused saying why, hostile objects are
// skipped or kept incomplete with a reason, and an unplug keeps what was finished.
//
// The MTP family is registered as exhibitd registers it: its sessions run in
// exhibit-driver-host (drivers/host/), so libmtp runs in a child process per device.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "drivers/host/hosted_driver.hpp"
#include "drivers/mtp/mtp_driver.hpp"
#include "drivers/shared_storage.hpp"
#include "phonesim/mtp/mtp_responder.hpp"
#include "phonesim/scenario.hpp"
#include "phonesim/usb/mtp_server.hpp"
#include "tests/usb/usb_kiosk.hpp"

namespace exhibit {
namespace {

using namespace std::chrono_literals;
using drivers::Category;
namespace fsys = std::filesystem;

using testing::PhoneFile;  // paths below the phone's root (its one storage)

const std::vector<PhoneFile> kTree = {
    {"DCIM/Camera/IMG_1.jpg", 150'001},
    {"DCIM/Camera/IMG_2.jpg", 512 * 64},  // a whole number of packets: a zero-length packet
    {"Pictures/Ünïcødé 😀.png", 4567},
    {"Pictures/with spaces/ -dash.jpg", 10},
    {"Movies/VID_1.mp4", 3'000'001},
    {"Music/song.mp3", 700'000},
    {"Download/empty.pdf", 0},
    {"Documents/report.docx", 65'536},
};
// Outside every shared folder: never taken.
const PhoneFile kPrivate = {"Android/data/app/secret.jpg", 1000};

// The storage the responder serves, as the driver names it in source paths.
std::string item_path(const std::string& relative) {
    return fmt::format("/mtp/{:08x}/{}", phonesim::mtp::kStorageId, relative);
}

class MtpExtraction : public testing::UsbKiosk {
  protected:
    void add_families(drivers::DriverRegistry& registry) override {
        // As exhibitd: MTP after ADB, its sessions in exhibit-driver-host (which reaches the
        // emulated bus through the umockdev preload, as a program under exhibit-phonesim
        // --usb does), with a short wait for the person to unlock.
        ::setenv("LD_PRELOAD", "libumockdev-preload.so.0", 1);
        ASSERT_TRUE(registry.add(std::make_unique<host::HostedDriver>(
            std::make_unique<mtp::MtpDriver>(), host_options())));
    }

    host::HostedDriverOptions host_options() {
        return {.program = fsys::path(EXHIBIT_BINARY_DIR) / "bin" / "exhibit-driver-host",
                .arguments = {"--user-wait-seconds", "30"},
                .silence_limit = silence_limit_};
    }

    void write_phone(const std::vector<PhoneFile>& files, unsigned seed = 1) {
        testing::write_tree(phone_.path(), files, seed);
    }

    // A phone with USB debugging off: one MTP interface, served from phone_.
    usbsim::EmulatedDevice* plug_mtp_phone(std::uint8_t port,
                                           std::shared_ptr<const phonesim::Scenario> scenario = {}) {
        auto settings = std::make_shared<phonesim::mtp::MtpSettings>();
        settings->root = phone_.path();
        settings->model = "Pixel MTP";
        settings->serial = "MTPX" + std::to_string(port);
        settings->scenario = std::move(scenario);
        settings->locked = locked_;
        settings->on_command = [this](std::uint16_t operation) {
            std::lock_guard lock(operations_mutex_);
            operations_.insert(operation);
        };
        usbsim::DeviceSpec spec;
        spec.serial = settings->serial;
        spec.product = settings->model;
        spec.interfaces = {usbsim::interface_preset("mtp").value()};
        auto d = bus_->plug(spec, port, {},
                            usbsim::mtp_server(settings, [this] { unplug_asked_ = true; }));
        EXPECT_TRUE(d) << d.error().describe();
        return d ? *d : nullptr;
    }

    const devices::DeviceRecord* wait_ready(const std::string& transport,
                                            std::chrono::milliseconds timeout = 20s) {
        const auto* d = wait_device(transport, 5s);
        if (!d)
            return nullptr;
        const auto id = d->id;
        run_until(
            [&] {
                const auto* r = registry_.find(id);
                return r && r->state == devices::DeviceState::ready;
            },
            timeout);
        return registry_.find(id);
    }

    std::optional<extract::SessionView> extract(const std::string& device_id,
                                                drivers::Scope scope,
                                                std::chrono::seconds timeout = 60s) {
        auto id = start_session(device_id, std::move(scope));
        EXPECT_TRUE(id) << id.error().describe();
        if (!id)
            return std::nullopt;
        return wait_session(*id, timeout);
    }

    void expect_items_match(std::int64_t session, const std::vector<PhoneFile>& files) {
        auto items = items_of(session);
        EXPECT_EQ(items.size(), files.size());
        for (const auto& f : files) {
            auto it = items.find(item_path(f.path));
            ASSERT_NE(it, items.end()) << f.path << " was not taken";
            EXPECT_EQ(it->second.state, store::ItemState::complete) << f.path;
            EXPECT_EQ(it->second.size, static_cast<std::int64_t>(f.size)) << f.path;
            EXPECT_EQ(it->second.sha256, testing::sha256_of(phone_ / f.path)) << f.path;
            EXPECT_EQ(testing::sha256_of(state_ / it->second.blob), it->second.sha256) << f.path;
        }
    }

    std::vector<std::string> skip_reasons() {
        std::vector<std::string> out;
        auto stmt = store_->database().prepare(
            "SELECT details FROM audit WHERE event = 'extract.artefact_skipped'");
        EXPECT_TRUE(stmt);
        if (stmt)
            while (stmt->step().value_or(false))
                out.push_back(stmt->column_text(0));
        return out;
    }

    std::set<std::uint16_t> operations() {
        std::lock_guard lock(operations_mutex_);
        return operations_;
    }

    std::chrono::milliseconds silence_limit_ = 10min;
    testing::TempDir phone_;
    std::mutex operations_mutex_;
    std::set<std::uint16_t> operations_;  // every operation the phone was asked
    std::shared_ptr<std::atomic<bool>> locked_ = std::make_shared<std::atomic<bool>>(false);
    std::atomic<bool> unplug_asked_{false};
    std::string first_detail_;
};

TEST_F(MtpExtraction, EveryItemMatchesTheSourceAndThePreviewCountsWhatIsTaken) {
    write_phone(kTree);
    write_phone({kPrivate}, 99);
    ASSERT_NO_FATAL_FAILURE(start_core());
    registry_.subscribe([this](const devices::DeviceRecord& r, devices::DeviceChange c) {
        if (c == devices::DeviceChange::added)
            first_detail_ = r.detail;  // what the person reads while it is being opened
    });
    ASSERT_TRUE(plug_mtp_phone(1));
    const auto* d = wait_ready("usb:1-1");
    ASSERT_TRUE(d) << "the MTP phone was not detected";
    ASSERT_EQ(d->state, devices::DeviceState::ready) << d->detail;
    EXPECT_EQ(first_detail_, "Android phone in File transfer mode (MTP): its files only");
    const auto device_id = d->id;
    const auto* driver = sessions_->driver_for(device_id);
    ASSERT_TRUE(driver);
    EXPECT_EQ(driver->name(), "mtp") << "a phone offering only MTP is the MTP family's";

    // The preview: counts and bytes per category, as the extraction will take them.
    std::optional<Result<drivers::Preview>> preview;
    sessions_->preview(device_id, media_scope(),
                       [&](Result<drivers::Preview> p) { preview = std::move(p); });
    ASSERT_TRUE(run_until([&] { return preview.has_value(); }, 30s)) << "no preview";
    ASSERT_TRUE(*preview) << preview->error().describe();
    std::map<Category, std::pair<std::uint64_t, std::uint64_t>> expected;
    for (const auto& f : kTree) {
        auto c = drivers::classify_file(f.path).value();
        expected[c].first += 1;
        expected[c].second += f.size;
    }
    for (const auto& [c, want] : expected) {
        auto it = (*preview)->find(c);
        ASSERT_NE(it, (*preview)->end()) << drivers::to_string(c);
        EXPECT_EQ(it->second.count, want.first) << drivers::to_string(c);
        EXPECT_EQ(it->second.bytes, want.second) << drivers::to_string(c);
    }

    auto end = extract(device_id, media_scope());
    ASSERT_TRUE(end) << "the session did not end";
    EXPECT_EQ(end->state, store::SessionState::completed) << end->reason.value_or("");
    ASSERT_NO_FATAL_FAILURE(expect_items_match(end->id, kTree));
    auto s = store_->catalog().session(end->id).value();
    EXPECT_EQ(s.device_serial, "MTPX1");
    EXPECT_EQ(s.device.value("model", ""), "Pixel MTP");
    EXPECT_TRUE(store_->audit().verify().value().ok());

    // The kept link serves a second extraction, limited to photos.
    auto photos = extract(device_id, {.categories = {Category::photos}});
    ASSERT_TRUE(photos);
    EXPECT_EQ(photos->state, store::SessionState::completed) << photos->reason.value_or("");
    EXPECT_EQ(items_of(photos->id).size(), 4u);

    // Nothing is ever written to the phone: over a detection, a preview and two extractions
    // the phone was asked only operations that read (PTP 1.1 and MTP 1.1 operation codes,
    // and Android's GetPartialObject64). A write, a delete, a move, a property set, a
    // format or a capture is none of them.
    const std::map<std::uint16_t, std::string_view> reading = {
        {0x1001, "GetDeviceInfo"},      {0x1002, "OpenSession"},
        {0x1003, "CloseSession"},       {0x1004, "GetStorageIDs"},
        {0x1005, "GetStorageInfo"},     {0x1006, "GetNumObjects"},
        {0x1007, "GetObjectHandles"},   {0x1008, "GetObjectInfo"},
        {0x1009, "GetObject"},          {0x100A, "GetThumb"},
        {0x1014, "GetDevicePropDesc"},  {0x1015, "GetDevicePropValue"},
        {0x101B, "GetPartialObject"},   {0x9801, "GetObjectPropsSupported"},
        {0x9802, "GetObjectPropDesc"},  {0x9803, "GetObjectPropValue"},
        {0x9805, "GetObjectPropList"},  {0x9810, "GetObjectReferences"},
        {0x95C1, "GetPartialObject64"}};
    const auto asked = operations();
    for (auto code : asked)
        EXPECT_TRUE(reading.contains(code)) << fmt::format("the phone was asked 0x{:04X}", code);
    EXPECT_TRUE(asked.contains(0x1007) && asked.contains(0x1009))
        << "the phone was not even listed and read: the watch saw nothing";
}

TEST_F(MtpExtraction, MessagesAreRefusedSayingWhy) {
    write_phone(kTree);
    ASSERT_NO_FATAL_FAILURE(start_core());
    ASSERT_TRUE(plug_mtp_phone(1));
    const auto* d = wait_ready("usb:1-1");
    ASSERT_TRUE(d);
    auto id = start_session(d->id, {.categories = {Category::photos, Category::messages}});
    ASSERT_FALSE(id) << "an MTP phone cannot give messages";
    EXPECT_EQ(id.error().code, Errc::invalid_argument);
    EXPECT_NE(id.error().message.find(mtp::kFilesOnlyNote), std::string::npos)
        << id.error().message;
}

TEST_F(MtpExtraction, ALockedPhoneIsAStateWithItsInstructionUntilItIsUnlocked) {
    write_phone(kTree);
    locked_->store(true);  // "charging only", or locked: no storage
    ASSERT_NO_FATAL_FAILURE(start_core());
    ASSERT_TRUE(plug_mtp_phone(2));
    const auto* d = wait_device("usb:1-2", 5s);
    ASSERT_TRUE(d);
    const auto device_id = d->id;
    ASSERT_TRUE(run_until(
        [&] { return registry_.find(device_id)->state == devices::DeviceState::locked; }, 20s))
        << "state " << devices::to_string(registry_.find(device_id)->state);
    EXPECT_EQ(registry_.find(device_id)->detail, mtp::kUnlockInstruction);

    // The officer starts while the phone is still locked; the person unlocks it.
    auto id = start_session(device_id, media_scope());
    ASSERT_TRUE(id) << id.error().describe();
    run_until([] { return false; }, 1s);
    EXPECT_FALSE(ended_.contains(*id)) << "it waits for the person";
    locked_->store(false);
    auto end = wait_session(*id, 60s);
    ASSERT_TRUE(end) << "the session did not end after the unlock";
    EXPECT_EQ(end->state, store::SessionState::completed) << end->reason.value_or("");
    ASSERT_NO_FATAL_FAILURE(expect_items_match(*id, kTree));
}

TEST_F(MtpExtraction, HostileObjectsAreSkippedOrKeptIncompleteWithAReason) {
    write_phone(kTree);
    auto scenario = phonesim::parse_scenario(R"({"rules": [
      {"path": "/sdcard/DCIM/Camera/IMG_1.jpg", "action": "declare_size", "size": 1000},
      {"path": "/sdcard/Movies/VID_1.mp4", "action": "declare_size", "size": 4000000},
      {"path": "/sdcard/DCIM", "action": "inject_names",
       "names": ["..", "a/b.jpg", "bell\u0007.jpg"], "names_hex": ["ff fe 2e 6a 70 67"]},
      {"path": "/sdcard/Music", "action": "parent_loop"}]})");
    ASSERT_TRUE(scenario) << scenario.error().describe();
    ASSERT_NO_FATAL_FAILURE(start_core());
    ASSERT_TRUE(
        plug_mtp_phone(3, std::make_shared<const phonesim::Scenario>(std::move(*scenario))));
    const auto* d = wait_ready("usb:1-3");
    ASSERT_TRUE(d);
    auto end = extract(d->id, media_scope());
    ASSERT_TRUE(end) << "the session did not end";
    auto items = items_of(end->id);
    std::string taken;
    for (const auto& [path, item] : items)
        taken += fmt::format("\n  {} {} {}", path, item.size, item.incomplete_reason.value_or(""));
    EXPECT_EQ(end->state, store::SessionState::completed) << end->reason.value_or("") << taken;

    // Stated 1000 bytes, sent 150001: every byte kept, never called complete, and the
    // phone still in step for the next object.
    auto small = items.find(item_path("DCIM/Camera/IMG_1.jpg"));
    ASSERT_NE(small, items.end());
    EXPECT_EQ(small->second.state, store::ItemState::incomplete);
    EXPECT_EQ(small->second.size, 150'001);
    EXPECT_EQ(small->second.sha256, testing::sha256_of(phone_ / "DCIM/Camera/IMG_1.jpg"));
    EXPECT_EQ(small->second.incomplete_reason.value_or(""),
              "size mismatch: the phone stated 1000 bytes and sent 150001");
    // Stated 4000000, sent 3000001: kept with what arrived, incomplete.
    auto big = items.find(item_path("Movies/VID_1.mp4"));
    ASSERT_NE(big, items.end());
    EXPECT_EQ(big->second.state, store::ItemState::incomplete);
    EXPECT_EQ(big->second.size, 3'000'001);
    EXPECT_EQ(big->second.sha256, testing::sha256_of(phone_ / "Movies/VID_1.mp4"));

    // Everything else arrives whole.
    std::vector<PhoneFile> whole;
    for (const auto& f : kTree)
        if (f.path != "DCIM/Camera/IMG_1.jpg" && f.path != "Movies/VID_1.mp4")
            whole.push_back(f);
    for (const auto& f : whole) {
        auto it = items.find(item_path(f.path));
        ASSERT_NE(it, items.end()) << f.path;
        EXPECT_EQ(it->second.state, store::ItemState::complete) << f.path;
        EXPECT_EQ(it->second.sha256, testing::sha256_of(phone_ / f.path)) << f.path;
    }
    // Names no file can have, and the folder that names itself as its own parent: skipped,
    // each with its reason in the audit log; nothing written outside the store.
    auto reasons = skip_reasons();
    auto count = [&](std::string_view needle) {
        return std::ranges::count_if(
            reasons, [&](const std::string& r) { return r.find(needle) != std::string::npos; });
    };
    EXPECT_EQ(reasons.size(), 3u) << ::testing::PrintToString(reasons);
    EXPECT_EQ(count("the phone listed a name that is '.' or '..'"), 1);
    EXPECT_EQ(count("the phone listed a name containing '/'"), 1);
    EXPECT_EQ(count("(a loop on the phone)"), 1) << ::testing::PrintToString(reasons);
    // A legal name the phone then refuses to send: kept as an incomplete item saying so, and
    // the phone, still in step, gives the next object.
    auto refused = items.find(item_path("DCIM/bell\\x07.jpg"));
    ASSERT_NE(refused, items.end()) << taken;
    EXPECT_EQ(refused->second.state, store::ItemState::incomplete);
    EXPECT_NE(refused->second.incomplete_reason.value_or("").find("the phone refused it"),
              std::string::npos)
        << refused->second.incomplete_reason.value_or("");
    std::set<std::string> stored;
    for (const auto& e : fsys::recursive_directory_iterator(state_.path()))
        stored.insert(e.path().filename().string());
    EXPECT_FALSE(stored.contains("b.jpg"));
    EXPECT_TRUE(store_->audit().verify().value().ok());
}

// Whatever the phone does, what is called complete is exactly the source file.
void expect_complete_items_true(const std::map<std::string, store::ItemRecord>& items,
                                const fsys::path& root) {
    const std::string prefix = item_path("");
    for (const auto& [path, item] : items) {
        if (item.state != store::ItemState::complete)
            continue;
        ASSERT_TRUE(path.starts_with(prefix)) << path;
        EXPECT_EQ(item.sha256, testing::sha256_of(root / path.substr(prefix.size()))) << path;
    }
}

TEST_F(MtpExtraction, AStallingPhoneEndsTheSessionAndKeepsWhatWasFinished) {
    write_phone(kTree);
    auto scenario = phonesim::parse_scenario(R"({"rules": [
      {"path": "/sdcard/Movies/VID_1.mp4", "action": "stall_after", "bytes": 65536}]})");
    ASSERT_TRUE(scenario) << scenario.error().describe();
    ASSERT_NO_FATAL_FAILURE(start_core());
    ASSERT_TRUE(
        plug_mtp_phone(5, std::make_shared<const phonesim::Scenario>(std::move(*scenario))));
    const auto* d = wait_ready("usb:1-5");
    ASSERT_TRUE(d);
    // libmtp gives up on a transfer after its own USB timeout; the session then ends.
    auto end = extract(d->id, media_scope(), 150s);
    ASSERT_TRUE(end) << "the session did not end after the stall";
    EXPECT_EQ(end->state, store::SessionState::interrupted) << end->reason.value_or("");
    auto items = items_of(end->id);
    ASSERT_NO_FATAL_FAILURE(expect_complete_items_true(items, phone_.path()));
    for (const auto* done : {"DCIM/Camera/IMG_1.jpg", "DCIM/Camera/IMG_2.jpg"}) {
        auto it = items.find(item_path(done));
        ASSERT_NE(it, items.end()) << done << " was finished before the stall";
        EXPECT_EQ(it->second.state, store::ItemState::complete) << done;
    }
    auto stalled = items.find(item_path("Movies/VID_1.mp4"));
    ASSERT_NE(stalled, items.end());
    EXPECT_EQ(stalled->second.state, store::ItemState::incomplete);
    EXPECT_LE(stalled->second.size, 65536);
    EXPECT_TRUE(store_->audit().verify().value().ok());
}

// A phone that goes in the middle of an object (phonesim's disconnect_after: the data phase
// stops, then the phone leaves the bus): the session ends interrupted as on any unplug, what
// was finished is kept, the object cut short is kept with what arrived, and the same phone
// plugged in again is read whole.
TEST_F(MtpExtraction, APhoneThatLeavesMidObjectEndsTheSessionAndKeepsWhatWasFinished) {
    write_phone(kTree);
    auto scenario = phonesim::parse_scenario(R"({"rules": [
      {"path": "/sdcard/Movies/VID_1.mp4", "action": "disconnect_after", "bytes": 65536}]})");
    ASSERT_TRUE(scenario) << scenario.error().describe();
    ASSERT_NO_FATAL_FAILURE(start_core());
    auto* device =
        plug_mtp_phone(8, std::make_shared<const phonesim::Scenario>(std::move(*scenario)));
    ASSERT_TRUE(device);
    const auto* d = wait_ready("usb:1-8");
    ASSERT_TRUE(d);
    const auto device_id = d->id;
    auto id = start_session(device_id, media_scope());
    ASSERT_TRUE(id) << id.error().describe();
    ASSERT_TRUE(run_until([&] { return unplug_asked_.load(); }, 60s))
        << "the phone never reached the object it leaves in";
    bus_->unplug(*device);  // what phonesim's own loop does when the rule fires
    auto end = wait_session(*id, 30s);
    ASSERT_TRUE(end) << "the session did not end after the phone left";
    EXPECT_EQ(end->state, store::SessionState::interrupted) << end->reason.value_or("");
    // Whichever is seen first: the unplug, or the transfer the phone stopped.
    const auto reason = end->reason.value_or("");
    EXPECT_TRUE(reason.find(drivers::kDeviceDisconnected) != std::string::npos ||
                reason.find("the phone did not send the file") != std::string::npos)
        << reason;
    auto items = items_of(*id);
    ASSERT_NO_FATAL_FAILURE(expect_complete_items_true(items, phone_.path()));
    for (const auto* done : {"DCIM/Camera/IMG_1.jpg", "DCIM/Camera/IMG_2.jpg"}) {
        auto it = items.find(item_path(done));
        ASSERT_NE(it, items.end()) << done << " was finished before the phone left";
        EXPECT_EQ(it->second.state, store::ItemState::complete) << done;
    }
    if (auto cut = items.find(item_path("Movies/VID_1.mp4")); cut != items.end()) {
        EXPECT_EQ(cut->second.state, store::ItemState::incomplete);
        EXPECT_LE(cut->second.size, 65536);
        EXPECT_TRUE(cut->second.incomplete_reason.has_value());
    }
    ASSERT_TRUE(run_until([&] { return registry_.find(device_id) == nullptr; }, 10s))
        << "the phone that left is still listed";

    // The same phone, plugged in again without the rule, is read whole: nothing was left
    // stuck by the phone that left.
    auto* again = plug_mtp_phone(9);
    ASSERT_TRUE(again);
    const auto* back = wait_ready("usb:1-9");
    ASSERT_TRUE(back);
    auto whole = extract(back->id, media_scope());
    ASSERT_TRUE(whole) << "the session did not end";
    EXPECT_EQ(whole->state, store::SessionState::completed) << whole->reason.value_or("");
    ASSERT_NO_FATAL_FAILURE(expect_items_match(whole->id, kTree));
    EXPECT_TRUE(store_->audit().verify().value().ok());
}

// A folder whose listing never ends (phonesim's list_forever: a quarter of a billion handles
// in a 1 GiB data phase, each then answered). libmtp reads such a listing into memory inside
// one call that offers no way out; in exhibit-driver-host that call cannot reach exhibitd: a
// cancel ends it at once, and left alone it ends at the child's memory limit with the
// session interrupted and named, while exhibitd keeps serving other phones.
TEST_F(MtpExtraction, AListingWithoutEndIsEndedAndNamedWhileExhibitdServesOthers) {
    write_phone(kTree);
    auto scenario = phonesim::parse_scenario(R"({"rules": [
      {"path": "/sdcard/DCIM/Camera", "action": "list_forever"}]})");
    ASSERT_TRUE(scenario) << scenario.error().describe();
    silence_limit_ = 30s;  // the backstop for a phone that answers without end
    ASSERT_NO_FATAL_FAILURE(start_core());
    ASSERT_TRUE(
        plug_mtp_phone(10, std::make_shared<const phonesim::Scenario>(std::move(*scenario))));
    const auto* d = wait_ready("usb:1-10");
    ASSERT_TRUE(d);
    const auto device_id = d->id;

    // Cancelled while the listing runs: the session ends within seconds, not after it.
    auto first = start_session(device_id, media_scope());
    ASSERT_TRUE(first) << first.error().describe();
    std::this_thread::sleep_for(2s);
    ASSERT_TRUE(sessions_->cancel(*first)) << "the session could not be cancelled";
    const auto asked = std::chrono::steady_clock::now();
    auto cancelled = wait_session(*first, 10s);
    ASSERT_TRUE(cancelled) << "a cancel did not end the endless listing";
    EXPECT_EQ(cancelled->state, store::SessionState::cancelled) << cancelled->reason.value_or("");
    EXPECT_LT(std::chrono::steady_clock::now() - asked, 5s);

    // Left alone, it ends, named, and no later than the silence limit.
    ASSERT_TRUE(run_until(
        [&] {
            const auto* r = registry_.find(device_id);
            return r && r->state == devices::DeviceState::ready;
        },
        20s));
    auto second = extract(device_id, media_scope(), 180s);
    ASSERT_TRUE(second) << "the endless listing never ended";
    EXPECT_EQ(second->state, store::SessionState::interrupted) << second->reason.value_or("");
    const auto reason = second->reason.value_or("");
    EXPECT_NE(reason.find("the mtp driver"), std::string::npos) << reason;

    // Meanwhile exhibitd serves another phone whole.
    auto* other = plug_mtp_phone(11);
    ASSERT_TRUE(other);
    const auto* o = wait_ready("usb:1-11");
    ASSERT_TRUE(o);
    auto whole = extract(o->id, media_scope());
    ASSERT_TRUE(whole);
    EXPECT_EQ(whole->state, store::SessionState::completed) << whole->reason.value_or("");
    ASSERT_NO_FATAL_FAILURE(expect_items_match(whole->id, kTree));
    EXPECT_TRUE(store_->audit().verify().value().ok());
}

// A malformed ObjectInfo, object or response: what is called complete is still exactly the
// source, and the object is never left out without a word. (A response carrying the wrong
// transaction id, phonesim's "transaction" kind, makes libmtp drop the object from its
// folder listing and say so only on stderr: the driver watches for that, libmtp_stderr.hpp.)
TEST_F(MtpExtraction, MalformedContainersNeverPassForEvidence) {
    write_phone(kTree);
    for (const auto* kind : {"length", "type", "transaction"}) {
        SCOPED_TRACE(kind);
        auto scenario = phonesim::parse_scenario(fmt::format(R"({{"rules": [
          {{"path": "/sdcard/DCIM/Camera/IMG_2.jpg", "action": "malformed_container",
            "kind": "{}"}}]}})",
                                                             kind));
        ASSERT_TRUE(scenario) << scenario.error().describe();
        if (!loop_) {
            ASSERT_NO_FATAL_FAILURE(start_core());
        }
        auto* device =
            plug_mtp_phone(6, std::make_shared<const phonesim::Scenario>(std::move(*scenario)));
        ASSERT_TRUE(device);
        // Only that object's exchanges are malformed: the phone opens as any other.
        const auto* d = wait_ready("usb:1-6", 30s);
        ASSERT_TRUE(d);
        ASSERT_EQ(d->state, devices::DeviceState::ready) << d->detail;
        const auto id = d->id;
        auto end = extract(id, media_scope(), 150s);
        ASSERT_TRUE(end) << "the session did not end";
        auto items = items_of(end->id);
        std::string taken;
        for (const auto& [path, item] : items)
            taken += fmt::format("\n  {} {} {}", path, item.size,
                                 item.incomplete_reason.value_or(""));
        for (const auto& r : skip_reasons())
            taken += "\n  skipped: " + r;
        SCOPED_TRACE(end->reason.value_or("") + taken);
        ASSERT_NO_FATAL_FAILURE(expect_complete_items_true(items, phone_.path()));
        auto bad = items.find(item_path("DCIM/Camera/IMG_2.jpg"));
        if (bad != items.end()) {
            EXPECT_EQ(bad->second.state, store::ItemState::incomplete);
            EXPECT_TRUE(bad->second.incomplete_reason.has_value());
        } else if (end->state == store::SessionState::completed) {
            // Left out, and said: its own skip, or its folder's.
            auto reasons = skip_reasons();
            EXPECT_TRUE(std::ranges::any_of(reasons, [](const std::string& r) {
                return r.find("IMG_2.jpg") != std::string::npos ||
                       r.find("did not list folder /mtp/00010001/DCIM/Camera") !=
                           std::string::npos;
            })) << "an object left out must be said: skipped, incomplete or interrupted";
        }
        if (end->state == store::SessionState::completed) {
            // The other folders are taken whole.
            for (const auto* other : {"Movies/VID_1.mp4", "Music/song.mp3", "Documents/report.docx"}) {
                auto it = items.find(item_path(other));
                ASSERT_NE(it, items.end()) << other;
                EXPECT_EQ(it->second.state, store::ItemState::complete) << other;
            }
        }
        bus_->unplug(*device);
        run_until([&] { return registry_.find(id) == nullptr; }, 10s);
    }
    EXPECT_TRUE(store_->audit().verify().value().ok());
}

// Past 4 GiB an MTP object's size no longer fits ObjectInfo's 32 bits: libmtp asks for the
// 64-bit size property, and the data phase's container states 0xFFFFFFFF. Every byte arrives
// and the hash is the source's.
TEST_F(MtpExtraction, AnItemOverFourGibArrivesWhole) {
    const std::uint64_t size = (4ull << 30) + 123'457;
    auto big = phone_ / "Movies/long.mp4";
    testing::write_random_file(big, 1'000'000, 42);  // some real bytes first, the rest a hole
    fsys::resize_file(big, size);
    const auto source_sha256 = testing::sha256_of(big);
    ASSERT_NO_FATAL_FAILURE(start_core());
    ASSERT_TRUE(plug_mtp_phone(7));
    const auto* d = wait_ready("usb:1-7");
    ASSERT_TRUE(d);
    auto end = extract(d->id, {.categories = {Category::videos}}, 600s);
    ASSERT_TRUE(end) << "the session did not end";
    EXPECT_EQ(end->state, store::SessionState::completed) << end->reason.value_or("");
    auto items = items_of(end->id);
    auto it = items.find(item_path("Movies/long.mp4"));
    ASSERT_NE(it, items.end());
    EXPECT_EQ(it->second.state, store::ItemState::complete)
        << it->second.incomplete_reason.value_or("");
    EXPECT_EQ(static_cast<std::uint64_t>(it->second.size), size);
    EXPECT_EQ(it->second.declared_size, static_cast<std::int64_t>(size)) << "the stated size";
    EXPECT_EQ(it->second.sha256, source_sha256);
}

TEST_F(MtpExtraction, AnUnplugInTheMiddleKeepsWhatWasFinished) {
    std::vector<PhoneFile> photos;
    for (int i = 0; i < 5; ++i)
        photos.push_back({"DCIM/Camera/IMG_" + std::to_string(i) + ".jpg", 100'000u + i});
    write_phone(photos, 7);
    // DCIM is walked before Movies: the photos are finished before the large file starts.
    testing::write_random_file(phone_ / "Movies/long.mp4", 1, 1);
    fsys::resize_file(phone_ / "Movies/long.mp4", 3ull << 30);  // sparse: never ends in time
    ASSERT_NO_FATAL_FAILURE(start_core());
    auto* device = plug_mtp_phone(4);
    ASSERT_TRUE(device);
    const auto* d = wait_ready("usb:1-4");
    ASSERT_TRUE(d);
    const auto device_id = d->id;
    auto id = start_session(device_id, {.categories = {Category::photos, Category::videos}});
    ASSERT_TRUE(id) << id.error().describe();
    ASSERT_TRUE(run_until(
        [&] {
            auto it = last_.find(*id);
            return it != last_.end() && it->second.progress.bytes_done > (20u << 20);
        },
        60s))
        << "the large file did not start";
    bus_->unplug(*device);
    auto end = wait_session(*id, 30s);
    ASSERT_TRUE(end) << "the session did not end after the unplug";
    EXPECT_EQ(end->state, store::SessionState::interrupted) << end->reason.value_or("");
    auto items = items_of(*id);
    std::size_t complete = 0;
    for (const auto& p : photos) {
        auto it = items.find(item_path(p.path));
        ASSERT_NE(it, items.end()) << p.path << " finished before the unplug but was lost";
        EXPECT_EQ(it->second.state, store::ItemState::complete);
        EXPECT_EQ(it->second.sha256, testing::sha256_of(phone_ / p.path));
        ++complete;
    }
    if (auto big = items.find(item_path("Movies/long.mp4")); big != items.end()) {
        EXPECT_EQ(big->second.state, store::ItemState::incomplete);
    }
    EXPECT_EQ(complete, photos.size());
    EXPECT_TRUE(store_->audit().verify().value().ok());
}

}  // namespace
}  // namespace exhibit
