// The device families exhibitd knows, keyed by what a device offers (a classified USB
// function, a network transport). Families are registered once at startup, one line each
// (exhibitd's Daemon::register_drivers; a test registers its fake family the same way); a
// device is served by the first registered family serving one of its functions.
//
// Filled on one thread before use, then read-only: the const members are thread-safe.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "common/error.hpp"
#include "drivers/driver.hpp"

namespace exhibit::drivers {

class DriverRegistry {
  public:
    // Adds a family. Errc::exists when a function it serves is already served (a device
    // must never depend on registration order to find its driver), Errc::invalid_argument
    // for a driver without a name or without functions.
    Status add(std::unique_ptr<Driver> driver);

    // The driver for a device offering `functions`, or null when no family serves any.
    const Driver* find(std::span<const Function> functions) const;
    const Driver* find(const Device& device) const { return find(device.functions); }
    // Every family, in registration order.
    std::vector<const Driver*> all() const;

  private:
    std::vector<std::unique_ptr<Driver>> drivers_;
};

}  // namespace exhibit::drivers
