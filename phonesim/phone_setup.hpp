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
    // Empty: the records file's property if it has one, else the built-in default
    // (PHONESIM0001, Phonesim, exhibit). Given: wins over the records file.
    std::string serial;         // ro.serialno, ro.boot.serialno
    std::string model;          // ro.product.model (also in the CNXN banner)
    std::string manufacturer;   // ro.product.manufacturer and ro.product.brand
    std::string auth = "none";  // "none" or "require"
    bool accept_new_keys = false;
    std::int64_t clock_offset_seconds = 0;
};

Result<PhoneOptions> make_phone(const PhoneSettings& settings);

}  // namespace exhibit::phonesim
