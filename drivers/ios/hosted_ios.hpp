// The iPhone family in the driver host (drivers/host/README.md): both sides of it. exhibitd
// registers hosted_ios_driver(); exhibit-driver-host runs the family's own IosDriver, whose
// calls to libusbmuxd are relayed to exhibitd (hosted_ios_child.cpp, linked into
// exhibit-driver-host only).
//
// What the child holds, and where the phone's bytes are first read:
// - the child loads its system call filter before it reads the request: it cannot open
//   usbmuxd's socket or read the pair records on disk itself;
// - every libusbmuxd call libimobiledevice and the family make is a `relay` frame, answered
//   by exhibitd with the real libusbmuxd (usbmux_relay), for this phone only: its UDID, the
//   handle usbmuxd gave it, connections to its ports (each connected socket passed to the
//   child, which speaks lockdown, TLS and AFC on it), its pair record, the host's system BUID;
// - a request for another phone or another handle, a record over 64 KiB, or more than 256
//   connections in one session ends the child with the rule named;
// - the pair record and its TLS key do enter the child: libimobiledevice needs them for the
//   session's TLS. They are this phone's pairing only, made for this extraction and removed
//   as it ends (docs/security.md);
// - removing a pairing is answered when usbmuxd is done or after 2 s, whichever is first
//   (usbmuxd 1.1.1 can hang after an unplug);
// - when the child is ended before it could remove the pairing (a stop, a crash, the session
//   closed without an extraction), exhibitd removes the kiosk's half from usbmuxd; the phone
//   keeps a record of a host key that then exists nowhere.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "drivers/host/hosted_driver.hpp"
#include "drivers/ios/ios_driver.hpp"

namespace exhibit::ios {

struct HostedIosOptions {
    std::filesystem::path program;  // exhibit-driver-host
    IosDriverOptions options;       // the family's settings, passed to the child
};

// exhibitd's side: the iPhone family as a HostedDriver.
std::unique_ptr<drivers::Driver> hosted_ios_driver(HostedIosOptions options);

// What the child may be given of usbmuxd for the iPhone `udid` (the relay of one session).
// When it goes, a pairing the child saved and did not remove is removed from usbmuxd, unless
// `keep_pairing`.
std::unique_ptr<host::Relay> usbmux_relay(std::string udid, bool keep_pairing);

// The family's settings as the child's command line (after --family ios), and back.
std::vector<std::string> child_arguments(const IosDriverOptions& options);
Result<IosDriverOptions> options_from_arguments(const std::vector<std::string>& arguments);

}  // namespace exhibit::ios
