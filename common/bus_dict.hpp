// Writing a{sv} dictionaries with sd-bus, shared by exhibitd and exhibitctl (the D-Bus API
// passes options and reports as a{sv}).
#pragma once

#include <systemd/sd-bus.h>

#include <string>
#include <vector>

namespace exhibit {

// Appends one entry whose value is a list of strings ("as") to the a{sv} container open in
// `m`. Returns sd-bus's result: negative errno on failure.
int append_string_list_entry(sd_bus_message* m, const char* key,
                             const std::vector<std::string>& values);

}  // namespace exhibit
