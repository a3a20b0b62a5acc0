#include "kiosk_world.hpp"

#include <signal.h>

#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "tests/support/disk_images.hpp"

namespace exhibit::testing {

namespace fsys = std::filesystem;
using namespace std::chrono_literals;

namespace {
const std::string kBin = std::string(EXHIBIT_BINARY_DIR) + "/bin/";

std::string read_text(const fsys::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string default_notice() {
    return "# Digital Processing Notice\n\n"
           "You have offered your phone to the police. This notice says what we will do.\n\n"
           "## What we are looking for\n\nOnly what is relevant to the investigation: the "
           "categories and dates you agree to on the next screen.\n\n"
           "## Why\n\nTo investigate the crime you reported, and to find anything that helps "
           "it or points away from it.\n\n"
           "## How it is dealt with\n\nThe copy is sealed with a code and sent to the Digital "
           "Forensics Unit. Only people working on the case see it. It is kept as long as the "
           "law requires and then deleted.\n\n"
           "## You may refuse\n\nYou do not have to agree. Refusing alone will not end the "
           "investigation. You can ask us to stop at any time before the copy finishes.\n";
}
}  // namespace

const std::vector<TestOfficer>& test_officers() {
    static const std::vector<TestOfficer> officers = {
        {"4711", "2468", "PC Jo Bloggs"},
        {"5020", "13579", "PC Sam Patel"},
    };
    return officers;
}

KioskWorld::KioskWorld(WorldOptions options) {
    if (!start(options) && problem_.empty())
        problem_ = "something did not start";
}

KioskWorld::~KioskWorld() {
    std::ofstream(dir_ / "stop");  // the supervisor script does not start exhibitd again
    phonesim_.stop();              // SIGTERM: passed on to the supervisor and to exhibitd
}

void KioskWorld::write_notice(const std::string& version, const std::string& text) {
    // exhibitd serves the greatest version name in [kiosk] notices_directory (<version>.md).
    std::ofstream(dir_ / "notice.tmp") << text;
    fsys::rename(dir_ / "notice.tmp", dir_ / "notices" / (version + ".md"));
}

bool KioskWorld::start(const WorldOptions& o) {
    auto [grc, gout] = run_command(
        {kBin + "exhibit-phonesim", "--generate", (dir_ / "phone").string(), "--seed", "7"}, 120s);
    if (grc != 0)
        return (problem_ = "phonesim --generate failed: " + gout), false;
    tls_ = make_tls(dir_ / "tls", "kiosk test");
    tus_ = std::make_unique<TusPeer>(PeerKind::tus_server, dir_ / "dfu", *tls_);
    if (!tus_->ok())
        return (problem_ = "the tus server did not start"), false;
    bus_ = std::make_unique<PrivateBus>(dir_.path());
    if (!bus_->ok())
        return (problem_ = "dbus-daemon did not start"), false;

    std::filesystem::create_directories(dir_ / "notices");
    write_notice(o.notice_version, o.notice_text.empty() ? default_notice() : o.notice_text);

    const auto conf = dir_ / "exhibitd.conf";
    std::ofstream(conf) << fmt::format(
        "[daemon]\nkiosk_id = \"kiosk-test\"\nwatchdog = false\nlog_target = \"stderr\"\n"
        "[store]\nstate_directory = \"{}\"\nmin_free_mb = 0\n[dbus]\nbus = \"{}\"\n"
        "[upload]\nendpoint = \"{}\"\nca_file = \"{}\"\nclient_cert = \"{}\"\n"
        "client_key = \"{}\"\nwindow_start = \"03:00\"\nwindow_end = \"03:01\"\n"
        "[kiosk]\nofficers_file = \"{}\"\nnotices_directory = \"{}\"\nnotice_version = \"\"\n",
        (dir_ / "state").string(), bus_->address(), tus_->endpoint(), tls_->ca_cert.string(),
        tls_->client_cert.string(), tls_->client_key.string(), (dir_ / "officers").string(),
        (dir_ / "notices").string());
    std::ofstream(dir_ / "kiosk.conf")
        << "[kiosk]\nidle_seconds = 180\nprinter =\nreceipt_folder = " << receipts().string()
        << "\ncontact = Call 101 and give the reference above.\nforce_name = Test Constabulary\n";

    // The supervisor: runs exhibitd again whenever it exits, unless told to hold or stop.
    const auto d = dir_.path().string();
    std::ofstream(dir_ / "supervise.sh") << fmt::format(
        "trap 'touch {0}/stop; kill $(cat {0}/exhibitd.pid) 2>/dev/null; wait' TERM INT\n"
        "while [ ! -e {0}/stop ]; do\n"
        "  if [ -e {0}/hold ]; then sleep 0.05; continue; fi\n"
        "  {1}exhibitd --config {2} 2>>{0}/exhibitd.log &\n"
        "  echo $! > {0}/exhibitd.pid\n"
        "  wait $!; sleep 0.1\n"
        "done\n",
        d, kBin, conf.string());
    std::vector<std::string> stick;
    if (o.stick) {
        const auto files = dir_ / "stick";
        write_cctv_export(files, "EXPORT_2026-11-30");
        fsys::create_directories(files / "DCIM");
        for (const auto& e : fsys::directory_iterator(dir_ / "phone/DCIM/Camera"))
            fsys::copy_file(e.path(), files / "DCIM" / e.path().filename());
        if (auto s = build_fat32(dir_ / "stick.img", files, "WITNESS"); !s)
            return (problem_ = "the stick's image: " + s.error().describe()), false;
        stick = {"--stick", (dir_ / "stick.img").string()};
    }
    std::vector<std::string> argv = {kBin + "exhibit-phonesim",
                                     "--usb",
                                     "--root",
                                     (dir_ / "phone").string(),
                                     "--records",
                                     (dir_ / "phone/records.json").string(),
                                     "--serial",
                                     "KIOSK0001",
                                     "--model",
                                     "Pixel 8",
                                     "--manufacturer",
                                     "Google",
                                     "--control",
                                     (dir_ / "control").string(),
                                     "--auth",
                                     o.require_auth ? "require" : "none",
                                     "--adb-keys",
                                     (dir_ / "adb_keys").string()};
    std::ofstream(dir_ / "adb_keys", std::ios::app);
    if (!o.iphone.empty()) {  // an iPhone instead of the Android phone
        auto [irc, iout] = run_command({kBin + "exhibit-phonesim", "--generate",
                                        (dir_ / "iphone").string(), "--iphone", "--seed", "7"},
                                       120s);
        if (irc != 0)
            return (problem_ = "phonesim --generate --iphone failed: " + iout), false;
        argv = {kBin + "exhibit-phonesim", "--usb", "--iphone", "--root",
                (dir_ / "iphone").string(), "--trust", o.iphone, "--control",
                (dir_ / "control").string()};
    }
    argv.insert(argv.end(), stick.begin(), stick.end());  // a stick instead of the phone
    if (!o.interfaces.empty())
        argv.insert(argv.end(), {"--interfaces", o.interfaces});
    if (o.mtp_locked)
        argv.push_back("--mtp-locked");
    if (!o.scenario_json.empty()) {
        std::ofstream(dir_ / "scenario.json") << o.scenario_json;
        argv.insert(argv.end(), {"--scenario", (dir_ / "scenario.json").string()});
    }
    argv.insert(argv.end(), {"--", "sh", (dir_ / "supervise.sh").string()});
    phonesim_ = Process::start(argv);
    if (!wait_started(1, 30s))
        return (problem_ = "exhibitd did not start: " + read_text(dir_ / "exhibitd.log")), false;
    // The officers who may sign in, added as an administrator would (exhibitd keeps only a
    // salted scrypt hash of each PIN); the PIN goes on stdin, never in argv.
    for (const auto& officer : test_officers()) {
        auto [rc, out] =
            run_command({"sh", "-c", "printf '%s\\n' \"$EXHIBIT_TEST_PIN\" | \"$@\"", "sh",
                         kBin + "exhibitctl", "--bus", bus_->address(), "officer", "add",
                         officer.id, "--name", officer.name},
                        30s, {"EXHIBIT_TEST_PIN=" + officer.pin});
        if (rc != 0)
            return (problem_ = "exhibitctl officer add " + officer.id + " failed: " + out), false;
    }
    return true;
}

int KioskWorld::started_count() {
    const auto log = read_text(dir_ / "exhibitd.log");
    int n = 0;
    for (std::size_t at = log.find("started: kiosk"); at != std::string::npos;
         at = log.find("started: kiosk", at + 1))
        ++n;
    return n;
}

bool KioskWorld::wait_started(int count, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (started_count() >= count)
            return true;
        if (!phonesim_.running())
            return false;
        std::this_thread::sleep_for(50ms);
    }
    return false;
}

pid_t KioskWorld::daemon_pid() {
    try {
        return static_cast<pid_t>(std::stoi(read_text(dir_ / "exhibitd.pid")));
    } catch (...) {
        return 0;
    }
}

std::pair<int, std::string> KioskWorld::ctl(const std::vector<std::string>& args, int timeout_s) {
    std::vector<std::string> argv = {kBin + "exhibitctl", "--bus", bus_->address()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, std::chrono::seconds(timeout_s));
}

void KioskWorld::phone(const std::string& line) {
    std::ofstream(dir_ / "control") << line << "\n";
}

bool KioskWorld::kill_daemon() {
    std::ofstream(dir_ / "hold");
    const pid_t pid = daemon_pid();
    if (pid <= 0 || ::kill(pid, SIGKILL) != 0)
        return false;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (::kill(pid, 0) != 0)
            return true;
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

bool KioskWorld::release_daemon() {
    const int before = started_count();
    fsys::remove(dir_ / "hold");
    return wait_started(before + 1, 30s);
}

bool KioskWorld::set_notice(const std::string& version, const std::string& text) {
    write_notice(version, text.empty() ? default_notice() : text);
    auto [rc, out] = ctl({"reload"});
    return rc == 0;
}

std::pair<int, std::string> KioskWorld::verify_dfu() {
    auto [rc, status] = ctl({"status", "--json"});
    if (rc != 0)
        return {rc, status};
    const std::string key = "\"key_fingerprint\": \"";
    const auto at = status.find(key);
    if (at == std::string::npos)
        return {-1, "no key fingerprint in: " + status};
    const auto start = at + key.size();
    const auto fingerprint = status.substr(start, status.find('"', start) - start);
    return run_command(
        {kBin + "exhibit-verify", "--fingerprint", fingerprint, (dir_ / "dfu").string()}, 60s);
}

std::vector<std::string> KioskWorld::dfu_manifests() {
    std::vector<std::string> out;
    for (const auto& u : stored_uploads(dir_ / "dfu"))
        if (u.meta("type") == "manifest")
            out.push_back(read_text(u.data));
    return out;
}

}  // namespace exhibit::testing
