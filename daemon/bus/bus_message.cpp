#include "bus_message.hpp"

#include <fmt/format.h>

namespace exhibit::bus {

Status read_no_options(sd_bus_message* m) {
    auto options = read_value_map(m, Reading::arguments);
    if (!options)
        return std::unexpected(options.error());
    return only_keys(*options, {}, "options");
}

std::string admin_actor(sd_bus_message* m) {
    sd_bus_creds* raw = nullptr;
    uid_t uid = 0;
    const int r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID | SD_BUS_CREDS_AUGMENT, &raw);
    CredsPtr creds(raw);
    if (r >= 0)
        sd_bus_creds_get_euid(raw, &uid);
    return fmt::format("admin:{}", uid);
}

}  // namespace exhibit::bus
