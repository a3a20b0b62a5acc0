// exhibit-phonesim --usb: an emulated USB bus with the phone(s) plugged in, and a command
// (exhibitd, a test, a shell) run on it with the umockdev preload and $UMOCKDEV_DIR set.
// Each phone's ADB interface is served by phonesim's device engine and its MTP interface (when
// it has a root) by the MTP responder; other interfaces only enumerate. The control FIFO
// takes "unplug [SERIAL]", "plug [SERIAL]", "allow [SERIAL]" (accept the host key waiting on
// the phone's screen) and "unlock [SERIAL]" (a locked phone's storage appears on MTP). Progress
// lines go to stdout:
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

// exhibit-phonesim's --usb entry: the phones of `phones_file`, or the command line's one
// phone, around `command`; `argv` is main's (for the re-execution with the preload).
int usb_main(const phonesim::PhoneSettings& settings, const std::string& phones_file,
             const std::string& control, const std::vector<std::string>& command, char** argv,
             const std::vector<std::string>& interfaces = {}, bool mtp_locked = false,
             const std::string& stick = {});

}  // namespace exhibit::usbsim
