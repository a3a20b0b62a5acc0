// What one simulated iPhone is: its identity as lockdownd reports it, the host folder AFC
// serves as /var/mobile/Media, its trust state at plug-in, and the hostile behaviours it
// shows (each off by default). A value type, read-only once the device is built.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace exhibit::phonesim::ios {

// The phone's answer to a host that asks to pair (facts §4).
enum class TrustState {
    locked,   // passcode set, not unlocked: Pair and StartSession → PasswordProtected
    waiting,  // "Trust This Computer?" shows: Pair → PairingDialogResponsePending until trust()
    trusted,  // the dialog was accepted: Pair succeeds, paired hosts start sessions
};

struct IosIdentity {
    std::string product_type = "iPhone14,5";
    std::string product_version = "17.1";
    std::string build_version = "21B74";
    std::string device_name = "Exhibit iPhone";
    std::string serial_number = "F2LXK0ABCDEF";
    // New-style 25-character UDID "XXXXXXXX-XXXXXXXXXXXXXXXX"; usb_serial_for_udid() gives
    // the USB iSerial usbmuxd turns back into it.
    std::string unique_device_id = "00008101-000A1B2C3D4E5F60";
    std::string wifi_address = "a4:c3:f0:12:34:56";
    std::string hardware_model = "D16AP";
};

// A file whose GetFileInfo st_size is not the number of bytes it has.
struct LyingSize {
    std::string path;           // AFC path below the media root, e.g. "DCIM/100APPLE/IMG_0001.JPG"
    std::int64_t delta = 4096;  // st_size = real size + delta (never below 0)
};

enum class MalformedAfc {
    none,
    bad_magic,           // the reply's magic is not CFA6LPAA
    this_beyond_entire,  // this_length > entire_length
};

struct IosHostile {
    std::optional<LyingSize> lying_size;
    // ReadDir of this AFC folder answers a list that grows by endless_step names per call
    // (empty files that do not exist on disk).
    std::optional<std::string> endless_dir;
    std::uint32_t endless_step = 10000;
    // After this many AFC requests (over all AFC connections) the device reads requests but
    // answers none.
    std::optional<std::uint64_t> stall_after;
    // Every lockdownd GetValue is answered with bytes that are no plist.
    bool malformed_lockdown_reply = false;
    // The AFC reply to request number malformed_afc_at (1-based, over all connections).
    MalformedAfc malformed_afc = MalformedAfc::none;
    std::uint64_t malformed_afc_at = 1;
    // ReadDir of this AFC folder adds names no real file system has: "a/b", "..", one with
    // a NUL inside (the host sees two names) and one that is not UTF-8.
    std::optional<std::string> evil_names_dir;
};

struct IosSettings {
    IosIdentity identity;
    std::filesystem::path media_root;  // served as AFC's "/" (the phone's /var/mobile/Media)
    TrustState trust = TrustState::trusted;
    IosHostile hostile;
};

// The USB iSerialNumber of a device with this UDID: a new-style 25-character UDID loses its
// hyphen (usbmuxd 1.1.1 puts it back after 8 characters of a 24-character serial); an old
// 40-character UDID is its own serial.
std::string usb_serial_for_udid(std::string_view udid);

}  // namespace exhibit::phonesim::ios
