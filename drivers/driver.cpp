#include "drivers/driver.hpp"

#include <algorithm>

namespace exhibit::drivers {

bool Device::offers(const Function& f) const {
    return std::ranges::find(functions, f) != functions.end();
}

std::string_view to_string(DeviceCondition c) {
    switch (c) {
        case DeviceCondition::needs_authorisation:
            return "needs_authorisation";
        case DeviceCondition::locked:
            return "locked";
        case DeviceCondition::unsupported:
            return "unsupported";
    }
    return "?";
}

}  // namespace exhibit::drivers
