// What the bus adaptor adds to the shared sd-bus layer (common/bus_handles.hpp for the handle
// owners, common/bus_value.hpp for the a{sv} codec, both used unqualified here): the empty
// `options` argument and the caller as an audit actor.
#pragma once

#include <systemd/sd-bus.h>

#include <string>

#include "common/bus_handles.hpp"
#include "common/bus_value.hpp"
#include "common/error.hpp"

namespace exhibit::bus {

// Reads an `options a{sv}` argument of a method that accepts no option yet: any key is an
// InvalidArgument naming it.
Status read_no_options(sd_bus_message* m);

// "admin:<uid>" of the method call's sender, for the audit log.
std::string admin_actor(sd_bus_message* m);

}  // namespace exhibit::bus
