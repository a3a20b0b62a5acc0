#include "drivers/driver_registry.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace exhibit::drivers {

Status DriverRegistry::add(std::unique_ptr<Driver> driver) {
    if (!driver || driver->name().empty() || driver->serves().empty())
        return fail(Errc::invalid_argument, "a driver needs a name and at least one function");
    for (const auto& f : driver->serves())
        if (const auto* other = find(std::span(&f, 1)))
            return fail(Errc::exists, fmt::format("driver {}: {} is already served by driver {}",
                                                  driver->name(), f.name, other->name()));
    drivers_.push_back(std::move(driver));
    return {};
}

const Driver* DriverRegistry::find(std::span<const Function> functions) const {
    for (const auto& d : drivers_)
        for (const auto& served : d->serves())
            if (std::ranges::find(functions, served) != functions.end())
                return d.get();
    return nullptr;
}

std::vector<const Driver*> DriverRegistry::all() const {
    std::vector<const Driver*> out;
    for (const auto& d : drivers_)
        out.push_back(d.get());
    return out;
}

}  // namespace exhibit::drivers
