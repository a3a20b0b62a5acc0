#include "drivers/usb/usb_port.hpp"

#include <fmt/format.h>

namespace exhibit::usb {

drivers::Function driver_function(UsbFunction f) {
    return {fmt::format("usb:{}", to_string(f))};
}

}  // namespace exhibit::usb
