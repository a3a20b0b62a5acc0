// Internal to the bus adaptor: registers the health, device and session objects.
#pragma once

#include <vector>

#include "daemon/bus/bus_message.hpp"

namespace exhibit::bus {

class BusService;

Status add_object_vtables(sd_bus* bus, BusService* service, std::vector<SlotPtr>& slots);
Status add_queue_vtable(sd_bus* bus, BusService* service, std::vector<SlotPtr>& slots);
void emit_queue_changed(sd_bus* bus);

}  // namespace exhibit::bus
