#include "common/bus_handles.hpp"

#include <fmt/format.h>

#include "common/bus_value.hpp"

namespace exhibit {

Result<BusPtr> open_bus(const std::string& spec) {
    sd_bus* raw = nullptr;
    int r;
    if (spec == "system") {
        r = sd_bus_open_system(&raw);
    } else if (spec == "session") {
        r = sd_bus_open_user(&raw);
    } else {
        r = sd_bus_new(&raw);
        if (r >= 0)
            r = sd_bus_set_address(raw, spec.c_str());
        if (r >= 0)
            r = sd_bus_set_bus_client(raw, 1);
        if (r >= 0)
            r = sd_bus_start(raw);
    }
    BusPtr bus(raw);
    if (r < 0)
        return std::unexpected(bus_error(r, fmt::format("cannot connect to the {} bus", spec)));
    return bus;
}

}  // namespace exhibit
