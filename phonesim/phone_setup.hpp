// Builds a PhoneOptions from exhibit-phonesim's command-line settings (shared by the TCP and
// the emulated USB modes).
#pragma once

#include <filesystem>
#include <string>

#include "phonesim/device_engine.hpp"

namespace exhibit::phonesim {

struct PhoneSettings {
    std::filesystem::path root;
    std::filesystem::path records;   // optional
    std::filesystem::path scenario;  // optional
    std::filesystem::path adb_keys;  // optional
    std::string serial = "PHONESIM0001";
    std::string model = "Phonesim";
    std::string manufacturer = "exhibit";
    std::string auth = "none";  // "none" or "require"
    bool accept_new_keys = false;
    std::int64_t clock_offset_seconds = 0;
};

Result<PhoneOptions> make_phone(const PhoneSettings& settings);

}  // namespace exhibit::phonesim
