// The configuration of a private system-type dbus-daemon: the defaults of Debian's system bus,
// then a policy file (exhibit's own, packaging/dbus/org.exhibit.Exhibit1.conf), listening on a
// socket of its own. For the tests and for exhibit-validate, which run exhibitd on a bus of
// their own and never on the kiosk's (scripts/lib/bus.sh writes the same for the scripts).
#pragma once

#include <filesystem>
#include <string>

namespace exhibit {

std::string private_system_bus_config(const std::filesystem::path& socket,
                                      const std::filesystem::path& policy);

}  // namespace exhibit
