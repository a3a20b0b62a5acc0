// Debian's real usbmuxd (1.1.1) for tests, on an emulated USB bus (phonesim/usb): the
// process as phonesim/usb/usbmuxd_process.hpp starts it (a private mount namespace, the
// umockdev preload, SIGKILL to stop), with what tests ask of it: its log, and the UDIDs a
// client (idevice_id) sees through it.
//
// Thread-bound (the test's thread).
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "phonesim/usb/usbmuxd_process.hpp"

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

    pid_t pid() const { return usbmuxd_->pid(); }
    bool running() { return usbmuxd_->running(); }
    void kill() { usbmuxd_->stop(); }  // SIGKILL, reaped

    std::string socket_path() const { return usbmuxd_->socket_path(); }
    // The environment a client (idevice_id, iproxy, libusbmuxd) needs to reach it.
    std::vector<std::string> client_env() const {
        return {"USBMUXD_SOCKET_ADDRESS=UNIX:" + socket_path()};
    }
    std::string log() const { return usbmuxd_->log(); }
    // Waits until its log holds `needle`.
    bool wait_for_log(const std::string& needle, std::chrono::milliseconds timeout) const;

    // idevice_id -l through it: the UDIDs it lists (empty on failure).
    std::vector<std::string> list_udids() const;
    // Waits until `udid` is listed (present) or is not (absent).
    bool wait_listed(const std::string& udid, bool present,
                     std::chrono::milliseconds timeout) const;

  private:
    explicit UsbmuxdRunner(std::unique_ptr<usbsim::Usbmuxd> u) : usbmuxd_(std::move(u)) {}
    std::unique_ptr<usbsim::Usbmuxd> usbmuxd_;
};

}  // namespace exhibit::testing
