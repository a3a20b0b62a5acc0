// Debian's real usbmuxd (1.1.1) for tests, on an emulated USB bus (phonesim/usb).
//
// usbmuxd 1.1.1 has fixed paths (/var/run/usbmuxd, /var/run/usbmuxd.pid, /var/lib/lockdown),
// so it runs in a private mount namespace (unshare -m) with a temporary directory bound over
// /run and another over /var/lib; under the umockdev preload with the bus's UMOCKDEV_DIR, so
// it sees the bus's devices and hotplug events. Its log (-f -v) goes to a file.
//
// It ignores SIGTERM while its poll loop runs (ios-facts §1.4): it is stopped with SIGKILL,
// by PID, and reaped. Clients reach it with client_env() (USBMUXD_SOCKET_ADDRESS=UNIX:...).
//
// Thread-bound (the test's thread).
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::testing {

class UsbmuxdRunner {
  public:
    struct Options {
        std::string umockdev_dir;  // the bus's testbed (EmulatedBus::root())
        bool preflight = false;    // false: -p (no lockdownd preflight)
        int verbosity = 1;         // extra -v on top of -f's
    };

    // Starts it and waits until its socket accepts connections; nullopt (and `why`) if not.
    static std::optional<UsbmuxdRunner> start(const Options& options, std::string* why);
    static bool available();  // /usr/sbin/usbmuxd and unshare are installed

    UsbmuxdRunner(UsbmuxdRunner&&) = default;
    UsbmuxdRunner& operator=(UsbmuxdRunner&&) = default;
    ~UsbmuxdRunner() { kill(); }

    pid_t pid() const { return process_.pid(); }
    bool running() { return process_.running(); }
    void kill();  // SIGKILL, reaped

    std::string socket_path() const { return (dir_->path() / "run" / "usbmuxd").string(); }
    // The environment a client (idevice_id, iproxy, libusbmuxd) needs to reach it.
    std::vector<std::string> client_env() const {
        return {"USBMUXD_SOCKET_ADDRESS=UNIX:" + socket_path()};
    }
    std::string log() const;
    // Waits until its log holds `needle`.
    bool wait_for_log(const std::string& needle, std::chrono::milliseconds timeout) const;

    // idevice_id -l through it: the UDIDs it lists (empty on failure).
    std::vector<std::string> list_udids() const;
    // Waits until `udid` is listed (present) or is not (absent).
    bool wait_listed(const std::string& udid, bool present,
                     std::chrono::milliseconds timeout) const;

  private:
    UsbmuxdRunner() = default;
    std::unique_ptr<TempDir> dir_;
    Process process_;
};

}  // namespace exhibit::testing
