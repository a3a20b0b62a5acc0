// Debian's real usbmuxd (1.1.1) on an emulated USB bus, for exhibit-phonesim --usb with an
// iPhone and for tests: the iPhone's host side as a kiosk runs it.
//
// usbmuxd 1.1.1 has fixed paths (/var/run/usbmuxd, /var/run/usbmuxd.pid, /var/lib/lockdown
// for the pairing records), so it runs in a private mount namespace (unshare -m; with -r as
// well when not root) with a folder of its own bound over /run and another over /var/lib;
// under the umockdev preload with the bus's UMOCKDEV_DIR, so it sees the bus's devices and
// their hotplug events. Its log (-f -v) goes to usbmuxd.log in that folder. Clients reach it
// with USBMUXD_SOCKET_ADDRESS=UNIX:<socket_path()> (libusbmuxd reads it).
//
// It ignores SIGTERM while its poll loop runs: it is stopped with SIGKILL, by PID, and
// reaped (stop(), the destructor). Its folder is removed then.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "common/error.hpp"

namespace exhibit::usbsim {

class Usbmuxd {
  public:
    struct Options {
        std::string umockdev_dir;  // the bus's testbed (EmulatedBus::root())
        // usbmuxd's lockdownd preflight pairs with each new device at once; the simulated
        // iPhone serves no notification proxy for it, so the default is -p (none).
        bool preflight = false;
        int verbosity = 1;  // extra -v on top of -f's
        std::chrono::milliseconds start_timeout{10'000};
    };

    static bool available();  // /usr/sbin/usbmuxd and unshare are installed

    // Starts it and waits until its socket accepts connections.
    static Result<std::unique_ptr<Usbmuxd>> start(const Options& options);

    Usbmuxd(const Usbmuxd&) = delete;
    Usbmuxd& operator=(const Usbmuxd&) = delete;
    ~Usbmuxd();

    pid_t pid() const { return pid_; }
    bool running();
    void stop();  // SIGKILL, reaped; idempotent

    std::filesystem::path folder() const { return folder_; }
    std::string socket_path() const { return (folder_ / "run" / "usbmuxd").string(); }
    std::string socket_address() const { return "UNIX:" + socket_path(); }
    std::string log() const;

  private:
    explicit Usbmuxd(std::filesystem::path folder) : folder_(std::move(folder)) {}
    std::filesystem::path folder_;
    pid_t pid_ = -1;
};

}  // namespace exhibit::usbsim
