// An Android phone without USB debugging at the kiosk, as the officer meets it:
// exhibit-phonesim --usb --interfaces mtp plugs a generated phone (locked, then unlocked)
// into the emulated bus around a real exhibitd on a private D-Bus bus; exhibitctl shows the
// locked state with its instruction, then takes every shared file with its hash. exhibitd
// reads the phone through exhibit-driver-host, its child, which lives as long as the phone's
// link and is gone once the phone is unplugged.
#include <gtest/gtest.h>

#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <future>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/utf8.hpp"
#include "daemon/store/store.hpp"
#include "drivers/mtp/mtp_driver.hpp"
#include "drivers/shared_storage.hpp"
#include "phonesim/generator.hpp"
#include "tests/support/file_tree.hpp"
#include "tests/support/kiosk_on_usb.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::testing {
namespace {

using namespace std::chrono_literals;
namespace fsys = std::filesystem;

const std::vector<std::string> kExtract =
    KioskOnUsb::extract_d1("CR/MTP/1", "photos,videos,audio,documents");

// exhibitd's children running exhibit-driver-host.
std::vector<pid_t> driver_hosts_of(pid_t parent) {
    std::vector<pid_t> out;
    for (const auto& e : fsys::directory_iterator("/proc")) {
        const auto name = e.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos)
            continue;
        std::ifstream stat(e.path() / "stat");
        std::string line;
        std::getline(stat, line);
        auto close = line.rfind(')');
        if (close == std::string::npos || line.substr(0, close).find("exhibit-driver") ==
                                              std::string::npos)
            continue;
        std::istringstream rest(line.substr(close + 2));
        char state = 0;
        pid_t ppid = 0;
        rest >> state >> ppid;
        if (ppid == parent && state != 'Z')
            out.push_back(std::stoi(name));
    }
    return out;
}

// A file name as an MTP phone gives it: cut at 254 UTF-16 units (a PTP string cannot carry
// more; docs/phonesim.md).
std::string as_mtp_name(const std::string& name) {
    std::size_t units = 0, at = 0;
    while (at < name.size()) {
        char32_t cp = 0;
        const auto n = std::max<std::size_t>(1, utf8_sequence(std::string_view(name).substr(at), cp));
        const std::size_t need = cp > 0xFFFF ? 2 : 1;
        if (units + need > 254)
            break;
        units += need;
        at += n;
    }
    return name.substr(0, at);
}

// The files an extraction of every file category takes from the phone: those in the shared
// folders whose extension names a category (or, for a name cut short, whose format does:
// the phone gives a format by the whole name).
std::map<std::string, std::string> shared_files_of(const fsys::path& phone) {
    std::map<std::string, std::string> out;
    for (const auto& root : drivers::shared_storage_roots()) {
        if (!fsys::is_directory(phone / root))
            continue;
        for (const auto& e : fsys::recursive_directory_iterator(phone / root))
            if (e.is_regular_file() && drivers::classify_file(e.path().filename().string())) {
                auto relative = fsys::relative(e.path(), phone);
                out[(relative.parent_path() / as_mtp_name(relative.filename().string())).string()] =
                    sha256_of(e.path());
            }
    }
    return out;
}

TEST(MtpPhoneAtTheKiosk, ExhibitctlShowsTheLockedPhoneThenTakesEveryFileWithItsHash) {
    TempDir dir;
    const auto phone = dir / "phone";
    ASSERT_TRUE(phonesim::generate_phone(phone, {.seed = 20}));
    KioskOnUsb kiosk(dir.path(), {"--interfaces", "mtp", "--mtp-locked", "--root", phone.string()});
    ASSERT_TRUE(kiosk.ok()) << "phonesim or exhibitd did not start";
    ASSERT_TRUE(kiosk.expect("USB device d1 classified as android_mtp:", 20s));

    auto extraction = std::async(std::launch::async, [&] { return kiosk.ctl(kExtract, 180); });
    const std::string locked = fmt::format("locked / {}", mtp::kUnlockInstruction);
    std::string seen;
    for (auto deadline = std::chrono::steady_clock::now() + 30s;
         seen != locked && std::chrono::steady_clock::now() < deadline;
         std::this_thread::sleep_for(100ms)) {
        auto d1 = kiosk.device("d1");
        seen = d1.state + " / " + d1.detail;
    }
    EXPECT_EQ(seen, locked) << "the locked phone was not shown with its instruction";
    kiosk.send("unlock");
    ASSERT_EQ(extraction.wait_for(170s), std::future_status::ready);
    auto done = extraction.get();
    EXPECT_EQ(done.first, 0) << done.second;

    // The phone's link is kept in exhibitd's driver host child, and goes with the phone.
    EXPECT_EQ(driver_hosts_of(kiosk.daemon_pid()).size(), 1u)
        << "exhibitd does not read the MTP phone through exhibit-driver-host";
    kiosk.send("unplug");
    bool gone = false;
    for (auto deadline = std::chrono::steady_clock::now() + 10s;
         !gone && std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(100ms))
        gone = driver_hosts_of(kiosk.daemon_pid()).empty();
    EXPECT_TRUE(gone) << "the driver host outlived the phone's unplug";
    ASSERT_EQ(kiosk.stop(), 0);

    auto store = store::Store::open({.state_directory = kiosk.state(), .kiosk_id = "usb-kiosk"});
    ASSERT_TRUE(store) << store.error().describe();
    auto items = (*store)->catalog().items_of_session(1);
    ASSERT_TRUE(items) << items.error().describe();
    const auto expected = shared_files_of(phone);
    ASSERT_FALSE(expected.empty());
    EXPECT_EQ(items->size(), expected.size());
    const std::string prefix = "/mtp/00010001/";
    std::set<std::string> taken;
    for (const auto& item : *items) {
        ASSERT_TRUE(item.source_path.starts_with(prefix)) << item.source_path;
        const auto relative = item.source_path.substr(prefix.size());
        auto it = expected.find(relative);
        ASSERT_NE(it, expected.end()) << relative << " is not a shared file of the phone";
        EXPECT_EQ(item.state, store::ItemState::complete) << relative;
        EXPECT_EQ(item.sha256, it->second) << relative;
        taken.insert(relative);
    }
    EXPECT_EQ(taken.size(), expected.size());
    EXPECT_TRUE((*store)->audit().verify().value().ok());
}

// Whether process `pid` is gone (or only a zombie waiting for whoever adopted it).
bool gone(pid_t pid) {
    std::ifstream stat(fmt::format("/proc/{}/stat", pid));
    std::string line;
    if (!std::getline(stat, line))
        return true;
    auto close = line.rfind(')');
    return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
}

// exhibitd killed with SIGKILL while its driver host is inside libmtp, listing a folder
// without end (nothing would ever make the child write to its socket again): the child ends
// with exhibitd all the same, nothing is left reading the phone, and the session it cut short
// says so after the restart.
TEST(MtpPhoneAtTheKiosk, AKilledExhibitdTakesItsDriverHostWithIt) {
    TempDir dir;
    const auto phone = dir / "phone";
    ASSERT_TRUE(phonesim::generate_phone(phone, {.seed = 21}));
    std::ofstream(dir / "endless.json")
        << R"({"rules": [{"path": "/sdcard/DCIM/Camera", "action": "list_forever"}]})";
    KioskOnUsb kiosk(dir.path(),
                     {"--interfaces", "mtp", "--root", phone.string(), "--scenario",
                      (dir / "endless.json").string()},
                     true);
    ASSERT_TRUE(kiosk.ok()) << "phonesim or exhibitd did not start";
    ASSERT_TRUE(kiosk.expect("USB device d1 classified as android_mtp:", 20s));
    auto first = std::async(std::launch::async, [&] { return kiosk.ctl(kExtract, 180); });
    ASSERT_TRUE(kiosk.expect("session 1: extracting", 30s)) << "the extraction did not start";
    std::this_thread::sleep_for(2s);  // inside the endless listing
    auto [status, pids] = run_command({"pgrep", "-P", std::to_string(kiosk.daemon_pid()),
                                       "-x", "exhibitd"},
                                      5s);
    ASSERT_EQ(status, 0) << "no exhibitd under the restarting shell";
    const pid_t exhibitd = std::stoi(pids);
    const auto hosts = driver_hosts_of(exhibitd);
    ASSERT_EQ(hosts.size(), 1u) << "the phone is not being read by a driver host";
    ASSERT_EQ(::kill(exhibitd, SIGKILL), 0);
    ASSERT_TRUE(kiosk.expect("exhibitd ended", 10s));
    bool ended = false;
    for (auto deadline = std::chrono::steady_clock::now() + 5s;
         !ended && std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(50ms))
        ended = gone(hosts[0]);
    EXPECT_TRUE(ended) << "the driver host outlived exhibitd";
    EXPECT_NE(first.get().first, 0) << "the first extraction cannot have ended well";

    // The next exhibitd ends the cut-short session and finds the phone ready again.
    ASSERT_TRUE(kiosk.expect("started: kiosk", 20s)) << "exhibitd did not start again";
    std::string state;
    for (auto deadline = std::chrono::steady_clock::now() + 30s;
         state != "ready" && std::chrono::steady_clock::now() < deadline;
         std::this_thread::sleep_for(100ms))
        state = kiosk.device("d1").state;
    EXPECT_EQ(state, "ready");
    auto cut = kiosk.ctl({"receipt", "1", "--json"});
    auto r = nlohmann::json::parse(cut.second, nullptr, false);
    ASSERT_TRUE(r.is_object()) << cut.second;
    EXPECT_EQ(r.value("state", ""), "interrupted") << cut.second;
    ASSERT_EQ(kiosk.stop(), 0);
}

}  // namespace
}  // namespace exhibit::testing
