// A validation pack (docs/validation.md): the requirements the method is validated against,
// its known limits, and known-answer cases, each a phone made from a fixed seed, what to take
// from it, and the results a correct kiosk must give. Read from a folder:
//   PACK/pack.json            {"name", "requirements": [{"id", "text"}], "limits": [text]}
//   PACK/cases/NAME/case.json one case (see Case)
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace exhibit::validate {

struct Requirement {
    std::string id;    // "R1"
    std::string text;  // what the method must do
};

// An item the case expects at the DFU: its path on the phone, the SHA-256 of its bytes (the
// known answer, computed apart from exhibit) and whether it is whole.
struct ExpectedItem {
    std::string source_path;  // "/sdcard/DCIM/Camera/IMG_1.jpg"
    std::string sha256;
    bool complete = true;
    std::string why;  // incomplete: words the recorded reason must hold ("size mismatch")
};

// A record item the case expects (messages, call log, contacts, apps, device information):
// its source as exhibit names it ("content://sms", "pm list packages", "getprop") and its
// rows in the phone's order, each a JSON object as docs/extraction.md describes the item's
// lines. `contains`: a row need only hold the expected members with their values (the phone
// adds getprop defaults the case does not know); otherwise it must be equal.
struct ExpectedRecords {
    std::string source_path;
    std::vector<nlohmann::json> rows;
    bool contains = false;
};

// An entry of the phone the kiosk must skip, recorded in the audit trail with its reason:
// its path as printed (docs/store.md: bytes that are not printable UTF-8 as \xNN) and words
// the reason must hold.
struct ExpectedSkip {
    std::string source_path;
    std::string reason;
};

// A USB stick a case plugs in instead of a phone (transport "stick-usb"): a FAT32 file
// system made by exhibit-validate with Debian's mkfs.vfat and mcopy from these folders of
// the generated phone, each copied to the stick's top with its files' modification times.
struct Stick {
    std::vector<std::string> folders;  // "DCIM", "Documents"
    std::string label = "WITNESS";
};

struct Case {
    std::string name;  // its folder's name
    std::string title;
    std::vector<std::string> requirements;  // ids it tests
    std::uint64_t seed = 0;                 // exhibit-phonesim --generate --seed
    // How the phone is reached: "adb-tcp" (ADB over TCP on 127.0.0.1), "adb-usb" (ADB over
    // the emulated USB bus), "mtp-usb" (USB debugging off: MTP only, on the emulated bus),
    // "iphone-usb" (an iPhone that trusts the kiosk, --generate --iphone, through usbmuxd on
    // the emulated bus) or "stick-usb" (no phone: a USB stick, see `stick`, on the bus).
    std::string transport = "adb-tcp";
    nlohmann::json scenario;                // exhibit-phonesim --scenario (null: none)
    Stick stick;                            // "stick-usb" only
    std::vector<std::string> categories;
    std::string from, to;                   // YYYY-MM-DD or empty
    std::vector<std::string> numbers;       // messages and calls only with these parties
    // The known answers: the session's end state, exactly these items and record items, no
    // other, and exactly these entries skipped.
    std::string state = "completed";
    std::vector<ExpectedItem> items;
    std::vector<ExpectedRecords> records;
    std::vector<ExpectedSkip> skipped;
};

struct Pack {
    std::filesystem::path dir;
    std::string name;
    std::vector<Requirement> requirements;
    std::vector<std::string> limits;
    std::vector<Case> cases;  // in the order of their folders' names
};

// Reads and checks a pack: a field missing or of the wrong type, a case naming a requirement
// the pack does not have, or a malformed SHA-256 is an error naming the file and the field.
Result<Pack> load_pack(const std::filesystem::path& dir);

// One comparison of a case's run: what was expected, what was observed, and whether they
// agree.
struct Check {
    std::string what;
    std::string expected;
    std::string observed;
    bool pass = false;
};

// What a run observed at the DFU: exhibit-verify's JSON report of the delivered store
// (docs/exhibit-verify.md), and how the extraction ended by exhibitctl's exit status.
struct Observed {
    nlohmann::json verify;  // null when exhibit-verify could not be run
    std::string verify_text;
    int extract_status = -1;
    // The bytes the DFU store holds of each delivered item the case expects as records, by
    // source path (read back after exhibit-verify checked them).
    std::map<std::string, std::string> delivered;
};

// The case's checks against what was observed: exhibit-verify's verdict, the session's end
// state, every expected item by its path (present, verified, its SHA-256, whole or not and
// why), every expected record item row by row, every expected skip with its reason (from
// the delivered audit trail), and no item or skip the case does not expect.
std::vector<Check> compare(const Case& c, const Observed& observed);

}  // namespace exhibit::validate
