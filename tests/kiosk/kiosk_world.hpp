// The real components a kiosk test runs against, as child processes stopped by PID: the tus
// server, a private dbus-daemon with the project's policy, and exhibit-phonesim --usb with a
// small supervisor script that runs exhibitd (so a test can kill exhibitd and let it start
// again on the same emulated bus, as systemd would).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/private_bus.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tus_peer.hpp"

namespace exhibit::testing {

struct WorldOptions {
    bool require_auth = true;   // the phone asks "Allow USB debugging?"
    std::string scenario_json;  // phonesim --scenario, empty for none
    std::string interfaces;     // phonesim --interfaces ("mtp": USB debugging off), "" default
    bool mtp_locked = false;    // phonesim --mtp-locked: no storage until "unlock"
    // A witness's USB stick instead of a phone (phonesim --stick): FAT32 holding a CCTV
    // export and the generated phone's camera pictures.
    bool stick = false;
    // An iPhone instead of the Android phone (phonesim --iphone, reached through usbmuxd):
    // its trust state at plug ("locked", "waiting", "trusted"); empty for none.
    std::string iphone;
    std::string notice_version = "DPN-TEST-1";
    std::string notice_text;
};

// The officers every test can sign in as (id -> PIN).
struct TestOfficer {
    std::string id, pin, name;
};
const std::vector<TestOfficer>& test_officers();

class KioskWorld {
  public:
    explicit KioskWorld(WorldOptions options);
    ~KioskWorld();

    // Empty when everything runs, else what did not start.
    const std::string& problem() const { return problem_; }
    const std::string& bus_address() const { return bus_->address(); }
    const std::filesystem::path& dir() const { return dir_.path(); }
    std::filesystem::path kiosk_config() const { return dir_ / "kiosk.conf"; }
    std::filesystem::path receipts() const { return dir_ / "receipts"; }

    std::pair<int, std::string> ctl(const std::vector<std::string>& args, int timeout_s = 60);
    void phone(const std::string& line);
    bool kill_daemon();
    bool release_daemon();
    bool set_notice(const std::string& version, const std::string& text);
    std::pair<int, std::string> verify_dfu();
    std::vector<std::string> dfu_manifests();

  private:
    bool start(const WorldOptions& o);
    bool wait_started(int count, std::chrono::seconds timeout);
    int started_count();
    pid_t daemon_pid();
    void write_notice(const std::string& version, const std::string& text);

    TempDir dir_;
    std::optional<TlsFiles> tls_;
    std::unique_ptr<TusPeer> tus_;
    std::unique_ptr<PrivateBus> bus_;
    Process phonesim_;
    std::string problem_;
};

}  // namespace exhibit::testing
