// The phones of exhibit-phonesim --usb: one from the command line, or a --phones FILE (a JSON
// list; docs/usb.md documents it). Each becomes a device spec on its own port, with the
// phonesim settings of its ADB interface when it has one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "phonesim/ios/ios_settings.hpp"
#include "phonesim/phone_setup.hpp"
#include "phonesim/usb/device_spec.hpp"

namespace exhibit::usbsim {

struct EmulatedPhone {
    DeviceSpec spec;  // strings of a phone with ADB are filled from its resolved identity
    std::uint8_t port = 1;
    std::optional<phonesim::PhoneSettings> adb;  // set when an interface is "adb"
    // Set when an interface is MTP and the phone has a root: its MTP interface is served.
    std::optional<phonesim::PhoneSettings> mtp;
    bool mtp_locked = false;  // no storage until "unlock" on the control FIFO
    // Set for a USB stick: its disk's bytes (EmulatedBus::plug_disk); then the device has one
    // mass-storage interface and no phone behind it.
    std::filesystem::path disk_image;
    // Set for an iPhone: its usbmux interface is served by a simulated iPhone (phonesim/ios)
    // with these settings; the spec is usbsim::iphone_spec() of its UDID.
    std::optional<phonesim::ios::IosSettings> ios;
};

// Relative paths in the list are taken from `base_dir`. Unknown keys and bad values are
// errors naming the phone (by index) and the key.
Result<std::vector<EmulatedPhone>> parse_phone_list(const nlohmann::json& list,
                                                    const std::filesystem::path& base_dir);
Result<std::vector<EmulatedPhone>> load_phone_list(const std::filesystem::path& file);

// A USB stick on port 1 holding `image` (exhibit-phonesim --stick): a flash drive's identity,
// the serial given (or a stick's own).
EmulatedPhone stick_from_image(const std::filesystem::path& image, const std::string& serial);

// An iPhone on port 1 (exhibit-phonesim --usb --iphone): its camera roll in `media_root`
// (what --generate --iphone writes), its trust state at plug-in ("locked", "waiting": the
// Trust question shows, "trusted"), its UDID (empty: the simulator's) and the file of its
// hostile behaviours (empty: none; phonesim/ios/ios_scenario.hpp).
Result<EmulatedPhone> iphone(const std::filesystem::path& media_root, const std::string& trust,
                             const std::string& udid = {},
                             const std::filesystem::path& scenario = {});

// The single phone of the command line on port 1: `interfaces` presets (empty: MTP + ADB).
Result<EmulatedPhone> phone_from_settings(const phonesim::PhoneSettings& settings,
                                          const std::vector<std::string>& interfaces = {},
                                          bool mtp_locked = false);

}  // namespace exhibit::usbsim
