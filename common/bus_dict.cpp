#include "bus_dict.hpp"

namespace exhibit {

int append_string_list_entry(sd_bus_message* m, const char* key,
                             const std::vector<std::string>& values) {
    int r = sd_bus_message_open_container(m, 'e', "sv");
    if (r >= 0)
        r = sd_bus_message_append(m, "s", key);
    if (r >= 0)
        r = sd_bus_message_open_container(m, 'v', "as");
    if (r >= 0)
        r = sd_bus_message_open_container(m, 'a', "s");
    for (std::size_t i = 0; r >= 0 && i < values.size(); ++i)
        r = sd_bus_message_append(m, "s", values[i].c_str());
    for (int level = 0; r >= 0 && level < 3; ++level)  // a, v, e
        r = sd_bus_message_close_container(m);
    return r;
}

}  // namespace exhibit
