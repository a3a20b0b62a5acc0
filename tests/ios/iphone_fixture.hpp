// What the iPhone family's tests share: the simulated iPhone's UDID, the scope and the
// drivers::Device the USB layer would hand the family, and what the family must take from a
// generated media folder.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "common/sha256.hpp"
#include "drivers/ios/ios_driver.hpp"
#include "drivers/shared_storage.hpp"
#include "phonesim/ios/ios_settings.hpp"

namespace exhibit::testing {

inline const std::string kIphoneUdid = "00008101-000A1B2C3D4E5F60";
inline const drivers::Scope kCameraRoll{
    .categories = {drivers::Category::photos, drivers::Category::videos}};

// The iPhone as the USB layer describes it to the family.
inline drivers::Device iphone_device() {
    return {.id = "d1",
            .functions = {ios::usb_function()},
            .address = "usb:1-1",
            .vendor_id = 0x05ac,
            .product_id = 0x12a8,
            .manufacturer = "Apple Inc.",
            .product = "iPhone",
            .serial = phonesim::ios::usb_serial_for_udid(kIphoneUdid),
            .usb = nullptr};
}

// What the family must take from a media folder: photos and videos under DCIM and
// PhotoData/Mutations/DCIM, as /var/mobile/Media/<path>, with their SHA-256.
inline std::map<std::string, std::string> camera_roll_of(const std::filesystem::path& media) {
    std::map<std::string, std::string> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(media)) {
        if (!e.is_regular_file())
            continue;
        const auto rel = std::filesystem::relative(e.path(), media).generic_string();
        if (!rel.starts_with("DCIM/") && !rel.starts_with("PhotoData/Mutations/DCIM/"))
            continue;
        auto c = drivers::classify_file(e.path().filename().string());
        if (c != drivers::Category::photos && c != drivers::Category::videos)
            continue;
        out["/var/mobile/Media/" + rel] = to_hex(Sha256::of_file(e.path()).value());
    }
    return out;
}

}  // namespace exhibit::testing
