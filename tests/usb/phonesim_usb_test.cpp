// exhibit-phonesim --usb around a real exhibitd, as a person would watch it: the daemon
// detects, classifies and loses phones in its log within a second, extracts over USB when
// exhibitctl asks, both idle at ~0% CPU, and phonesim exits with the command's status.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <future>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "common/sha256.hpp"
#include "daemon/store/store.hpp"
#include "tests/support/kiosk_on_usb.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace fsys = std::filesystem;

void write_file(const fsys::path& p, std::size_t size, unsigned seed) {
    fsys::create_directories(p.parent_path());
    std::string data(size, '\0');
    for (std::size_t i = 0; i < size; ++i)
        data[i] = static_cast<char>((i * 2654435761u + seed) >> 13);
    std::ofstream(p, std::ios::binary).write(data.data(), static_cast<std::streamsize>(size));
}

// CPU seconds (user + system) a process has used so far.
double cpu_of(pid_t pid) {
    std::ifstream in(fmt::format("/proc/{}/stat", pid));
    std::string stat;
    std::getline(in, stat);
    auto close = stat.rfind(')');
    if (close == std::string::npos)
        return -1;
    std::istringstream fields(stat.substr(close + 2));
    std::string f;
    double ticks = 0;
    for (int i = 3; i <= 15 && fields >> f; ++i)
        if (i >= 14)
            ticks += std::stod(f);
    return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double ms_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

TEST(PhonesimUsb, ExhibitdDetectsClassifiesAndLosesThePhoneInItsLog) {
    TempDir dir, phone;
    write_file(phone / "DCIM/Camera/IMG_1.jpg", 1000, 1);
    KioskOnUsb kiosk(dir.path(),
                     {"--root", phone.path().string(), "--serial", "HANDSET1", "--model", "Pixel 8",
                      "--manufacturer", "Google", "--auth", "require"});
    ASSERT_TRUE(kiosk.ok()) << "phonesim or exhibitd did not start";
    auto plugged = kiosk.expect("USB device d1 plugged in at 1-1", 20s);
    ASSERT_TRUE(plugged) << "exhibitd did not detect the phone";
    EXPECT_NE(plugged->first.find("Google Pixel 8"), std::string::npos) << plugged->first;
    // Nothing that identifies the person's phone leaves the kiosk through its log.
    EXPECT_EQ(plugged->first.find("HANDSET1"), std::string::npos) << plugged->first;
    ASSERT_TRUE(kiosk.expect("USB device d1 classified as android_mtp,android_adb", 1s));

    // The phone asks its owner to allow this kiosk: the session waits, the USB handle open
    // and a read queued. Nothing may spin meanwhile (the emulated node is a FIFO, not a
    // plain file that is always ready).
    auto extraction = std::async(std::launch::async, [&] {
        return kiosk.ctl({"extract", "d1", "--case", "CR/USB/2", "--exhibit", "EX/2", "--officer",
                          "PC 1", "--basis", "consent", "--notice", "v1", "--agreed-by", "owner",
                          "--categories", "photos", "--wait"});
    });
    ASSERT_TRUE(kiosk.expect("device d1 changed: usb:1-1 (needs_authorisation)", 20s))
        << "the session did not reach the phone's authorisation prompt";
    std::this_thread::sleep_for(500ms);
    double sim0 = cpu_of(kiosk.process().pid()), daemon0 = cpu_of(kiosk.daemon_pid());
    std::this_thread::sleep_for(3s);
    double sim = cpu_of(kiosk.process().pid()) - sim0;
    double daemon = cpu_of(kiosk.daemon_pid()) - daemon0;
    std::printf("idle 3 s waiting for the owner: phonesim %.2f s CPU, exhibitd %.2f s CPU\n", sim,
                daemon);
    EXPECT_LT(sim, 0.15) << "phonesim is not idle";
    EXPECT_LT(daemon, 0.15) << "exhibitd is not idle";
    kiosk.send("allow");
    ASSERT_EQ(extraction.wait_for(60s), std::future_status::ready);
    auto done = extraction.get();
    EXPECT_EQ(done.first, 0) << done.second;

    auto sent = Clock::now();
    kiosk.send("unplug");
    auto gone = kiosk.expect_all(
        {"usb: unplugged HANDSET1 from 1-1", "USB device d1 unplugged from 1-1"}, 5s);
    ASSERT_TRUE(gone.contains("USB device d1 unplugged from 1-1"))
        << "exhibitd did not notice the unplug";
    ASSERT_TRUE(gone.contains("usb: unplugged HANDSET1 from 1-1"));
    std::printf("unplug in exhibitd's log %.1f ms after the control command\n",
                ms_between(sent, gone["USB device d1 unplugged from 1-1"]));
    EXPECT_LT(ms_between(sent, gone["USB device d1 unplugged from 1-1"]), 1000.0);

    sent = Clock::now();
    kiosk.send("plug HANDSET1");
    auto back =
        kiosk.expect_all({"usb: plugged HANDSET1 at 1-1", "USB device d2 plugged in at 1-1"}, 5s);
    ASSERT_TRUE(back.contains("USB device d2 plugged in at 1-1"))
        << "the re-plugged phone is not a new device d2";
    std::printf("re-plug in exhibitd's log %.1f ms after the control command\n",
                ms_between(sent, back["USB device d2 plugged in at 1-1"]));
    EXPECT_LT(ms_between(sent, back["USB device d2 plugged in at 1-1"]), 1000.0);

    EXPECT_EQ(kiosk.stop(), 0) << "phonesim exits with exhibitd's status (a clean stop)";
}

TEST(PhonesimUsb, ExhibitctlExtractsOverUsb) {
    TempDir dir, phone;
    std::map<std::string, std::size_t> files = {{"DCIM/Camera/IMG_1.jpg", 200'000},
                                                {"DCIM/Camera/IMG_2.jpg", 512 * 100},
                                                {"Movies/clip.mp4", 3'000'000},
                                                {"Pictures/ünï 😀.png", 777}};
    unsigned seed = 1;
    for (const auto& [path, size] : files)
        write_file(phone / path, size, seed++);
    KioskOnUsb kiosk(dir.path(), {"--root", phone.path().string(), "--serial", "HANDSET2"});
    ASSERT_TRUE(kiosk.ok());
    ASSERT_TRUE(kiosk.expect("USB device d1 classified as", 20s));
    auto extract = kiosk.ctl({"extract", "d1", "--case", "CR/USB/1", "--exhibit", "EX/1",
                              "--officer", "PC 1", "--basis", "consent", "--notice", "v1",
                              "--agreed-by", "owner", "--categories", "photos,videos", "--wait"});
    ASSERT_EQ(extract.first, 0) << extract.second;
    ASSERT_EQ(kiosk.stop(), 0);

    auto store = store::Store::open({.state_directory = kiosk.state(), .kiosk_id = "usb-kiosk"});
    ASSERT_TRUE(store) << store.error().describe();
    auto items = (*store)->catalog().items_of_session(1);
    ASSERT_TRUE(items);
    ASSERT_EQ(items->size(), files.size());
    for (const auto& item : *items) {
        auto rel = item.source_path.substr(std::string("/sdcard/").size());
        ASSERT_TRUE(files.contains(rel)) << item.source_path;
        EXPECT_EQ(item.state, store::ItemState::complete);
        EXPECT_EQ(item.sha256, to_hex(Sha256::of_file(phone / rel).value())) << rel;
    }
}

TEST(PhonesimUsb, PhonesFilePlugsEveryKindOfDevice) {
    TempDir dir, phone;
    write_file(phone / "DCIM/a.jpg", 10, 1);
    auto list = dir / "phones.json";
    std::ofstream(list) << fmt::format(R"([
  {{"serial": "ADBPHONE", "root": "{}", "model": "Pixel 8", "interfaces": ["mtp", "adb"]}},
  {{"serial": "MTPPHONE", "vendor_id": "04e8", "product_id": "6860", "interfaces": ["mtp"]}},
  {{"serial": "IPHONE", "vendor_id": "05ac", "product_id": "12a8", "manufacturer": "Apple Inc.",
    "product": "iPhone", "interfaces": [{{"class": 6, "subclass": 1, "protocol": 1,
    "name": "PTP", "interrupt": true}}, "usbmux"]}},
  {{"serial": "STICK", "vendor_id": "0781", "product_id": "5581", "port": 7,
    "interfaces": ["mass_storage"]}},
  {{"serial": "KEYBOARD", "vendor_id": "046d", "product_id": "c31c", "interfaces": ["hid"]}}
])",
                                       phone.path().string());
    KioskOnUsb kiosk(dir.path(), {"--phones", list.string()});
    ASSERT_TRUE(kiosk.ok());
    std::map<std::string, std::string> device_of;  // vendor:product -> dN (no serials logged)
    std::map<std::string, std::string> classes;    // dN -> classes
    // A stick's USB device is logged, but its disk is the device (found through udev; this
    // stick has none): "USB disk plugged in at 1-7: ... (0781:5581, ...)", "... classified as".
    std::string stick_plug, stick_class;
    auto deadline = Clock::now() + 20s;
    while ((classes.size() < 4 || stick_class.empty()) && Clock::now() < deadline) {
        auto line = kiosk.process().read_line(1s);
        if (!line)
            continue;
        if (line->find("USB disk plugged in at 1-7") != std::string::npos)
            stick_plug = *line;
        if (auto c = line->find("USB disk at 1-7 classified as "); c != std::string::npos)
            stick_class = line->substr(c + 30, line->find(':', c) - (c + 30));
        auto at = line->find("USB device d");
        if (at == std::string::npos)
            continue;
        auto id = line->substr(at + 11, line->find(' ', at + 11) - (at + 11));
        EXPECT_EQ(line->find("serial"), std::string::npos) << *line;
        if (auto s = line->find(" ("); s != std::string::npos &&
                                        line->find("plugged in") != std::string::npos)
            device_of[line->substr(s + 2, 9)] = id;
        if (auto c = line->find("classified as "); c != std::string::npos)
            classes[id] = line->substr(c + 14, line->find(':', c) - (c + 14));
    }
    ASSERT_EQ(classes.size(), 4u) << "not every device was classified";
    ASSERT_EQ(device_of.size(), 4u) << "not every plug was logged with its vendor:product";
    EXPECT_EQ(classes[device_of["04e8:6860"]], "android_mtp");
    EXPECT_EQ(classes[device_of["05ac:12a8"]], "apple");
    EXPECT_EQ(classes[device_of["046d:c31c"]], "unsupported");
    EXPECT_FALSE(device_of.contains("0781:5581")) << "a stick is not listed as a USB device";
    EXPECT_NE(stick_plug.find("(0781:5581"), std::string::npos) << stick_plug;
    EXPECT_EQ(stick_plug.find("serial"), std::string::npos) << stick_plug;
    EXPECT_EQ(stick_class, "mass_storage");
    for (const auto& [usb_id, id] : device_of) {  // the ADB phone: the simulator's own ids
        if (!usb_id.starts_with("04e8:") && !usb_id.starts_with("05ac:") &&
            !usb_id.starts_with("0781:") && !usb_id.starts_with("046d:")) {
            EXPECT_EQ(classes[id], "android_mtp,android_adb") << usb_id;
        }
    }

    kiosk.send("unplug STICK");
    auto lost = std::string("USB disk unplugged from 1-7");
    auto seen = kiosk.expect_all({"usb: unplugged STICK from 1-7", lost}, 5s);
    EXPECT_EQ(seen.size(), 2u) << "the stick's unplug was not seen by exhibitd";
    EXPECT_EQ(kiosk.stop(), 0);
}

TEST(PhonesimUsb, ExitsWithTheCommandsStatus) {
    TempDir phone;
    auto run = [&](std::vector<std::string> tail) {
        std::vector<std::string> argv = {kBin + "exhibit-phonesim", "--usb", "--root",
                                         phone.path().string()};
        argv.insert(argv.end(), tail.begin(), tail.end());
        return run_command(argv, 30s);
    };
    auto seven = run({"--", "sh", "-c", "test -n \"$UMOCKDEV_DIR\" && exit 7"});
    EXPECT_EQ(seven.first, 7) << seven.second;
    EXPECT_NE(seven.second.find("usb: plugged PHONESIM0001 at 1-1"), std::string::npos)
        << seven.second;
    auto missing = run({"--", "/nonexistent/program"});
    EXPECT_EQ(missing.first, 127) << missing.second;
    auto none = run({});
    EXPECT_EQ(none.first, 64) << none.second;
    EXPECT_NE(none.second.find("needs a command"), std::string::npos) << none.second;
    TempDir dir;
    std::ofstream(dir / "bad.json")
        << R"([{"serial": "X", "colour": "red", "interfaces": ["hid"]}])";
    auto bad = run({"--phones", (dir / "bad.json").string(), "--", "true"});
    EXPECT_EQ(bad.first, 2) << bad.second;
    EXPECT_NE(bad.second.find("phone 0: unknown key \"colour\""), std::string::npos) << bad.second;
}

// A phonesim killed with SIGKILL cannot remove its emulated bus (a umockdev testbed in the
// temporary directory); the next phonesim removes it, and neither a live phonesim's bus nor
// a testbed of another program.
TEST(PhonesimUsb, RemovesTheBusOfAKilledPhonesimAndNoOther) {
    TempDir phone;
    TempDir tmp;
    const std::vector<std::string> env = {"TMPDIR=" + tmp.path().string()};
    auto start = [&] {
        return Process::start({kBin + "exhibit-phonesim", "--usb", "--root", phone.path().string(),
                               "--", "sleep", "60"},
                              env);
    };
    auto root_of = [](Process& p) {
        auto line = p.wait_for_line("usb: emulated bus in ", 20s);
        return line ? fsys::path(line->substr(line->rfind(' ') + 1)) : fsys::path();
    };
    Process live = start();
    const auto live_root = root_of(live);
    Process killed = start();
    const auto killed_root = root_of(killed);
    auto running = killed.wait_for_line("usb: running sleep (pid ", 20s);
    ASSERT_TRUE(running);
    const pid_t sleeper = std::stoi(running->substr(running->rfind(' ') + 1));
    ASSERT_EQ(live_root.parent_path(), tmp.path());
    ASSERT_EQ(killed_root.parent_path(), tmp.path());
    const auto other = tmp / "umockdev.another-program";
    fsys::create_directories(other / "sys");

    killed.kill(SIGKILL);
    ASSERT_TRUE(killed.wait(5s));
    ::kill(sleeper, SIGKILL);
    ASSERT_TRUE(fsys::exists(killed_root)) << "SIGKILL left nothing to clean";

    auto next = run_command(
        {kBin + "exhibit-phonesim", "--usb", "--root", phone.path().string(), "--", "true"}, 30s,
        env);
    EXPECT_EQ(next.first, 0) << next.second;
    EXPECT_NE(next.second.find("usb: removed 1 emulated bus left by a killed phonesim"),
              std::string::npos)
        << next.second;
    EXPECT_FALSE(fsys::exists(killed_root));
    EXPECT_TRUE(fsys::exists(live_root)) << "a live phonesim's bus was removed";
    EXPECT_TRUE(fsys::exists(other)) << "another program's testbed was removed";

    live.stop();
    EXPECT_FALSE(fsys::exists(live_root)) << "a phonesim stopped with SIGTERM left its bus";
}

}  // namespace
}  // namespace exhibit::testing
