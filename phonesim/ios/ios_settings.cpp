#include "phonesim/ios/ios_settings.hpp"

namespace exhibit::phonesim::ios {

std::string usb_serial_for_udid(std::string_view udid) {
    if (udid.size() == 25 && udid[8] == '-')
        return std::string(udid.substr(0, 8)) + std::string(udid.substr(9));
    return std::string(udid);
}

}  // namespace exhibit::phonesim::ios
