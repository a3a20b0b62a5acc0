// org.exhibit.Exhibit1.Session at /org/exhibit/Exhibit1/sessions/<id>: one job object per
// extraction this exhibitd started (progress properties, Cancel, Completed).
#include <fmt/format.h>

#include "daemon/bus/bus_internal.hpp"

namespace exhibit::bus {

namespace {

int session_property(sd_bus*, const char* path, const char*, const char* property,
                     sd_bus_message* reply, void* userdata, sd_bus_error*) noexcept {
    try {
        auto* svc = service_of(userdata);
        auto id = session_id_of(path ? path : "");
        const auto* s = id ? svc->sessions().find(*id) : nullptr;
        if (!s)
            return -ENOENT;
        std::string_view p = property;
        const auto& g = s->progress;
        if (p == "Id")
            return sd_bus_message_append(reply, "t", static_cast<std::uint64_t>(s->id));
        if (p == "Device")
            return sd_bus_message_append(reply, "s", s->device_id.c_str());
        if (p == "State")
            return sd_bus_message_append(reply, "s",
                                         std::string(store::to_string(s->state)).c_str());
        if (p == "Reason")
            return sd_bus_message_append(reply, "s", s->reason.value_or("").c_str());
        if (p == "Progress")
            return sd_bus_message_append(reply, "d", svc->progress_of(*s));
        if (p == "BytesDone")
            return sd_bus_message_append(reply, "t", g.bytes_done);
        if (p == "BytesTotal")
            return sd_bus_message_append(reply, "t", g.planned_bytes);
        if (p == "Rate")
            return sd_bus_message_append(reply, "d", s->rate_bytes_per_second);
        if (p == "ItemsDone")
            return sd_bus_message_append(reply, "t", g.items_done);
        if (p == "ItemsTotal")
            return sd_bus_message_append(reply, "t", g.planned_items);
        if (p == "ItemsIncomplete")
            return sd_bus_message_append(reply, "t", g.items_incomplete);
        if (p == "ItemsSkipped")
            return sd_bus_message_append(reply, "t", g.items_skipped);
        if (p == "CurrentItem")
            return sd_bus_message_append(reply, "s", g.current.c_str());
        return -ENOENT;
    } catch (...) {
        return -EIO;
    }
}

int method_cancel(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    return method_for(Role::officer, m, userdata, [&](BusService* svc) {
        if (auto s = read_no_options(m); !s)
            return svc->reply_error(m, s.error());
        auto id = session_id_of(sd_bus_message_get_path(m));
        if (!id)
            return svc->reply_error(m, Error{Errc::not_found, "no such session", 0});
        if (auto s = svc->sessions().cancel(*id); !s)
            return svc->reply_error(m, s.error());
        return sd_bus_reply_method_return(m, "");
    });
}

int find_session(sd_bus*, const char* path, const char*, void* userdata, void** found,
                 sd_bus_error*) noexcept {
    auto id = session_id_of(path ? path : "");
    if (!id || !service_of(userdata)->sessions().find(*id))
        return 0;
    *found = userdata;
    return 1;
}

int enumerate_sessions(sd_bus*, const char*, void* userdata, char*** nodes,
                       sd_bus_error*) noexcept {
    try {
        std::vector<std::string> paths;
        for (const auto* s : service_of(userdata)->sessions().all())
            paths.push_back(session_path(s->id));
        *nodes = to_strv(paths);
        return *nodes ? 0 : -ENOMEM;
    } catch (...) {
        return -ENOMEM;
    }
}

const sd_bus_vtable kSessionVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD_WITH_NAMES("Cancel", "a{sv}", SD_BUS_PARAM(options), "", , method_cancel,
                             SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_SIGNAL_WITH_NAMES("Completed", "ss", SD_BUS_PARAM(state) SD_BUS_PARAM(reason), 0),
    EXHIBIT_CONST("Id", "t", session_property),
    EXHIBIT_CONST("Device", "s", session_property),
    EXHIBIT_RO("State", "s", session_property),
    EXHIBIT_RO("Reason", "s", session_property),
    EXHIBIT_RO("Progress", "d", session_property),
    EXHIBIT_RO("BytesDone", "t", session_property),
    EXHIBIT_RO("BytesTotal", "t", session_property),
    EXHIBIT_RO("Rate", "d", session_property),
    EXHIBIT_RO("ItemsDone", "t", session_property),
    EXHIBIT_RO("ItemsTotal", "t", session_property),
    EXHIBIT_RO("ItemsIncomplete", "t", session_property),
    EXHIBIT_RO("ItemsSkipped", "t", session_property),
    EXHIBIT_RO("CurrentItem", "s", session_property),
    SD_BUS_VTABLE_END};

}  // namespace

Status export_sessions(sd_bus* bus, BusService* service, std::vector<SlotPtr>& slots) {
    sd_bus_slot* slot = nullptr;
    int r = sd_bus_add_fallback_vtable(bus, &slot, kSessionsPath.data(), kSessionInterface,
                                       kSessionVtable, find_session, service);
    if (auto s = keep_slot(r, slot, slots, "sessions"); !s)
        return s;
    r = sd_bus_add_node_enumerator(bus, &slot, kSessionsPath.data(), enumerate_sessions, service);
    return keep_slot(r, slot, slots, "the session list");
}

void emit_session_changed(sd_bus* bus, std::int64_t session_id) {
    (void)sd_bus_emit_properties_changed(
        bus, session_path(session_id).c_str(), kSessionInterface, "State", "Reason", "Progress",
        "BytesDone", "BytesTotal", "Rate", "ItemsDone", "ItemsTotal", "ItemsIncomplete",
        "ItemsSkipped", "CurrentItem", nullptr);
}

std::string session_path(std::int64_t id) {
    return fmt::format("{}/{}", kSessionsPath, id);
}

std::optional<std::int64_t> session_id_of(std::string_view path) {
    if (!path.starts_with(kSessionsPath) || path.size() <= kSessionsPath.size() + 1 ||
        path[kSessionsPath.size()] != '/')
        return std::nullopt;
    auto id = path.substr(kSessionsPath.size() + 1);
    if (id.empty() || id.size() > 18 || id.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    return std::stoll(std::string(id));
}

Result<std::int64_t> read_session_argument(sd_bus_message* m) {
    const char* path = nullptr;
    if (int r = sd_bus_message_read_basic(m, 'o', &path); r < 0)
        return std::unexpected(bus_error(r, "bad session"));
    if (auto s = read_no_options(m); !s)
        return std::unexpected(s.error());
    auto id = session_id_of(path ? path : "");
    if (!id)
        return std::unexpected(
            Error{Errc::not_found, fmt::format("\"{}\" is not a session", path), 0});
    return *id;
}

}  // namespace exhibit::bus
