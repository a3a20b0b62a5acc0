// exhibit-phonesim --usb: an emulated USB bus with the phone(s) plugged in, and a command
// (exhibitd, a test, a shell) run on it with the umockdev preload and $UMOCKDEV_DIR set.
// Each phone's ADB interface is served by phonesim's device engine and its MTP interface (when
// it has a root) by the MTP responder; other interfaces only enumerate. The control FIFO
// takes "unplug [SERIAL]", "plug [SERIAL]", "allow [SERIAL]" (accept the host key waiting on
// the phone's screen), "unlock [SERIAL]" (a locked phone's storage appears on MTP; a locked
// iPhone shows its Trust question), "trust [SERIAL]" and "deny [SERIAL]" (the iPhone owner's
// answer to "Trust This Computer?"; an iPhone's SERIAL may also be its UDID). An iPhone is
// reached through Debian's usbmuxd, started on the bus (usbmuxd_process.hpp), its socket
// given to the command in USBMUXD_SOCKET_ADDRESS. Progress lines go to stdout:
//   usb: plugged SERIAL at 1-N
//   usb: unplugged SERIAL from 1-N
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "phonesim/usb/phone_list.hpp"

namespace exhibit::usbsim {

struct UsbModeOptions {
    std::vector<EmulatedPhone> phones;
    std::filesystem::path control;     // optional FIFO (created when missing)
    std::vector<std::string> command;  // required: what runs on the bus
};

// Loads the umockdev preload by re-executing this program (argv as given to main) with
// LD_PRELOAD when it is not loaded yet; returns when it is, or with why it cannot be.
Status ensure_preload(char** argv);

// Runs until the command exits; returns its exit status (128 + N when killed by signal N).
// SIGTERM, SIGINT and SIGHUP are passed on to the command.
int run_usb_mode(const UsbModeOptions& options);

// exhibit-phonesim --usb's own options (main.cpp).
struct UsbCommandLine {
    std::string phones_file;              // --phones: a JSON list (docs/usb.md)
    std::string control;                  // --control FIFO
    std::vector<std::string> command;     // after --
    std::vector<std::string> interfaces;  // --interfaces: presets (empty: MTP + ADB)
    bool mtp_locked = false;              // --mtp-locked
    std::string stick;                    // --stick IMAGE
    std::string iphone_trust;             // --iphone: its trust state at plug (else empty)
};

// exhibit-phonesim's --usb entry: the phones of `phones_file`, or the command line's one
// phone (an Android phone of `settings`, a stick, or an iPhone whose media folder is
// settings.root and UDID settings.serial), around `command`; `argv` is main's (for the
// re-execution with the preload).
int usb_main(const phonesim::PhoneSettings& settings, const UsbCommandLine& line, char** argv);

}  // namespace exhibit::usbsim
