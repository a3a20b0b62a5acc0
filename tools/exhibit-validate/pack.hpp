// A validation pack (docs/validation.md): the requirements the method is validated against,
// its known limits, and known-answer cases, each a phone made from a fixed seed, what to take
// from it, and the results a correct kiosk must give. Read from a folder:
//   PACK/pack.json            {"name", "requirements": [{"id", "text"}], "limits": [text]}
//   PACK/cases/NAME/case.json one case (see Case)
#pragma once

#include <cstdint>
#include <filesystem>
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
};

struct Case {
    std::string name;  // its folder's name
    std::string title;
    std::vector<std::string> requirements;  // ids it tests
    std::uint64_t seed = 0;                 // exhibit-phonesim --generate --seed
    // How the phone is reached: "adb-tcp" (ADB over TCP on 127.0.0.1), "adb-usb" (ADB over
    // the emulated USB bus) or "mtp-usb" (USB debugging off: MTP only, on the emulated bus).
    std::string transport = "adb-tcp";
    nlohmann::json scenario;                // exhibit-phonesim --scenario (null: none)
    std::vector<std::string> categories;
    std::string from, to;  // YYYY-MM-DD or empty
    // The known answers: the session's end state, and exactly these items, no other.
    std::string state = "completed";
    std::vector<ExpectedItem> items;
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
};

// The case's checks against what was observed: exhibit-verify's verdict, the session's end
// state, every expected item by its path (present, verified, its SHA-256, whole or not), and
// no item the case does not expect.
std::vector<Check> compare(const Case& c, const Observed& observed);

}  // namespace exhibit::validate
