// The exported objects other than the manager: health, devices and sessions (vtables,
// property getters, the session's Cancel), and the ObjectManager node enumerators.
#include <fmt/format.h>
#include <exhibit/version.hpp>

#include "daemon/bus/bus_objects.hpp"
#include "daemon/bus/bus_service.hpp"

namespace exhibit::bus {

namespace {

constexpr std::string_view kDevicesPrefix = "/org/exhibit/Exhibit1/devices";
constexpr std::string_view kSessionsPrefix = "/org/exhibit/Exhibit1/sessions";

BusService* service_of(void* userdata) {
    return static_cast<BusService*>(userdata);
}

std::optional<std::string> child_id(std::string_view path, std::string_view prefix) {
    if (!path.starts_with(prefix) || path.size() <= prefix.size() + 1 || path[prefix.size()] != '/')
        return std::nullopt;
    auto id = path.substr(prefix.size() + 1);
    if (id.find('/') != std::string_view::npos)
        return std::nullopt;
    return std::string(id);
}

std::optional<std::int64_t> session_id_of(std::string_view path) {
    auto id = child_id(path, kSessionsPrefix);
    if (!id || id->empty() || id->size() > 18 ||
        id->find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    return std::stoll(*id);
}

int health_property(sd_bus*, const char*, const char*, const char* property, sd_bus_message* reply,
                    void* userdata, sd_bus_error* error) noexcept {
    try {
        auto* svc = service_of(userdata);
        std::string_view p = property;
        if (p == "Version")
            return sd_bus_message_append(reply, "s", kVersion);
        if (p == "KioskId")
            return sd_bus_message_append(reply, "s", svc->options().kiosk_id.c_str());
        if (p == "MinFreeBytes")
            return sd_bus_message_append(reply, "t", svc->options().min_free_bytes);
        auto h = svc->store().health();
        if (!h)
            return sd_bus_error_set(error, error_name(h.error()), h.error().describe().c_str());
        if (p == "KeyFingerprint")
            return sd_bus_message_append(reply, "s", h->key_fingerprint.c_str());
        if (p == "StoreState")
            return sd_bus_message_append(reply, "s", h->items_flagged ? "damaged" : "ok");
        if (p == "ItemsComplete")
            return sd_bus_message_append(reply, "t", h->items_complete);
        if (p == "ItemsIncomplete")
            return sd_bus_message_append(reply, "t", h->items_incomplete);
        if (p == "ItemsFlagged")
            return sd_bus_message_append(reply, "t", h->items_flagged);
        if (p == "FreeBytes")
            return sd_bus_message_append(reply, "t", h->free_bytes);
        return -ENOENT;
    } catch (...) {
        return -EIO;
    }
}

const devices::DeviceRecord* device_at(BusService* svc, const char* path) {
    auto id = child_id(path, kDevicesPrefix);
    return id ? svc->devices().find(*id) : nullptr;
}

int device_property(sd_bus*, const char* path, const char*, const char* property,
                    sd_bus_message* reply, void* userdata, sd_bus_error*) noexcept {
    try {
        const auto* d = device_at(service_of(userdata), path);
        if (!d)
            return -ENOENT;
        std::string_view p = property;
        if (p == "Id")
            return sd_bus_message_append(reply, "s", d->id.c_str());
        if (p == "Classes") {
            int r = sd_bus_message_open_container(reply, 'a', "s");
            for (auto c : d->classes)
                if (r >= 0)
                    r = sd_bus_message_append(reply, "s",
                                              std::string(devices::to_string(c)).c_str());
            return r < 0 ? r : sd_bus_message_close_container(reply);
        }
        if (p == "State")
            return sd_bus_message_append(reply, "s",
                                         std::string(devices::to_string(d->state)).c_str());
        if (p == "Detail")
            return sd_bus_message_append(reply, "s", d->detail.c_str());
        if (p == "Transport")
            return sd_bus_message_append(reply, "s", d->transport.c_str());
        if (p == "VendorId")
            return sd_bus_message_append(reply, "q", d->identity.vendor_id);
        if (p == "ProductId")
            return sd_bus_message_append(reply, "q", d->identity.product_id);
        if (p == "Manufacturer")
            return sd_bus_message_append(reply, "s", d->identity.manufacturer.c_str());
        if (p == "Product")
            return sd_bus_message_append(reply, "s", d->identity.product.c_str());
        if (p == "Serial")
            return sd_bus_message_append(reply, "s", d->identity.serial.c_str());
        if (p == "BusPath")
            return sd_bus_message_append(reply, "s", d->identity.bus_path.c_str());
        if (p == "Speed")
            return sd_bus_message_append(reply, "s", d->identity.speed.c_str());
        return -ENOENT;
    } catch (...) {
        return -EIO;
    }
}

int session_property(sd_bus*, const char* path, const char*, const char* property,
                     sd_bus_message* reply, void* userdata, sd_bus_error*) noexcept {
    try {
        auto* svc = service_of(userdata);
        auto id = session_id_of(path);
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

int session_cancel(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    try {
        auto* svc = service_of(userdata);
        if (auto s = svc->check_access(m, Role::officer); !s)
            return svc->reply_error(m, s.error());
        if (auto s = read_no_options(m); !s)
            return svc->reply_error(m, s.error());
        auto id = session_id_of(sd_bus_message_get_path(m));
        if (!id)
            return svc->reply_error(m, Error{Errc::not_found, "no such session", 0});
        if (auto s = svc->sessions().cancel(*id); !s)
            return svc->reply_error(m, s.error());
        return sd_bus_reply_method_return(m, "");
    } catch (...) {
        return sd_bus_reply_method_errorf(m, "org.exhibit.Exhibit1.Error.Failed", "internal error");
    }
}

int find_device(sd_bus*, const char* path, const char*, void* userdata, void** found,
                sd_bus_error*) noexcept {
    if (!device_at(service_of(userdata), path))
        return 0;
    *found = userdata;
    return 1;
}

int find_session(sd_bus*, const char* path, const char*, void* userdata, void** found,
                 sd_bus_error*) noexcept {
    auto id = session_id_of(path);
    if (!id || !service_of(userdata)->sessions().find(*id))
        return 0;
    *found = userdata;
    return 1;
}

char** to_strv(const std::vector<std::string>& paths) {
    auto** out = static_cast<char**>(calloc(paths.size() + 1, sizeof(char*)));
    for (std::size_t i = 0; out && i < paths.size(); ++i)
        out[i] = strdup(paths[i].c_str());
    return out;
}

int enumerate_devices(sd_bus*, const char*, void* userdata, char*** nodes, sd_bus_error*) noexcept {
    try {
        std::vector<std::string> paths;
        for (const auto* d : service_of(userdata)->devices().all())
            paths.push_back(device_path(d->id));
        *nodes = to_strv(paths);
        return *nodes ? 0 : -ENOMEM;
    } catch (...) {
        return -ENOMEM;
    }
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

#define EXHIBIT_RO(name, sig, getter) \
    SD_BUS_PROPERTY(name, sig, getter, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE)

const sd_bus_vtable kHealthVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Version", "s", health_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("KioskId", "s", health_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("KeyFingerprint", "s", health_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    EXHIBIT_RO("StoreState", "s", health_property),
    EXHIBIT_RO("ItemsComplete", "t", health_property),
    EXHIBIT_RO("ItemsIncomplete", "t", health_property),
    EXHIBIT_RO("ItemsFlagged", "t", health_property),
    EXHIBIT_RO("FreeBytes", "t", health_property),
    EXHIBIT_RO("MinFreeBytes", "t", health_property),
    SD_BUS_VTABLE_END};

const sd_bus_vtable kDeviceVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Id", "s", device_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Classes", "as", device_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    EXHIBIT_RO("State", "s", device_property),
    EXHIBIT_RO("Detail", "s", device_property),
    SD_BUS_PROPERTY("Transport", "s", device_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("VendorId", "q", device_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("ProductId", "q", device_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Manufacturer", "s", device_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Product", "s", device_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Serial", "s", device_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("BusPath", "s", device_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Speed", "s", device_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_VTABLE_END};

const sd_bus_vtable kSessionVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD_WITH_NAMES("Cancel", "a{sv}", SD_BUS_PARAM(options), "", , session_cancel,
                             SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_SIGNAL_WITH_NAMES("Completed", "ss", SD_BUS_PARAM(state) SD_BUS_PARAM(reason), 0),
    SD_BUS_PROPERTY("Id", "t", session_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Device", "s", session_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
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

Status add_object_vtables(sd_bus* bus, BusService* svc, std::vector<SlotPtr>& slots) {
    auto keep = [&](int r, sd_bus_slot* slot, std::string_view what) -> Status {
        if (r < 0)
            return std::unexpected(bus_error(r, fmt::format("cannot export {}", what)));
        slots.emplace_back(slot);
        return {};
    };
    sd_bus_slot* slot = nullptr;
    if (auto s = keep(sd_bus_add_object_vtable(bus, &slot, "/org/exhibit/Exhibit1/health",
                                               "org.exhibit.Exhibit1.Health", kHealthVtable, svc),
                      slot, "health");
        !s)
        return s;
    if (auto s = keep(sd_bus_add_fallback_vtable(bus, &slot, kDevicesPrefix.data(),
                                                 "org.exhibit.Exhibit1.Device", kDeviceVtable,
                                                 find_device, svc),
                      slot, "devices");
        !s)
        return s;
    if (auto s = keep(
            sd_bus_add_node_enumerator(bus, &slot, kDevicesPrefix.data(), enumerate_devices, svc),
            slot, "device list");
        !s)
        return s;
    if (auto s = keep(sd_bus_add_fallback_vtable(bus, &slot, kSessionsPrefix.data(),
                                                 "org.exhibit.Exhibit1.Session", kSessionVtable,
                                                 find_session, svc),
                      slot, "sessions");
        !s)
        return s;
    return keep(
        sd_bus_add_node_enumerator(bus, &slot, kSessionsPrefix.data(), enumerate_sessions, svc),
        slot, "session list");
}

std::string device_path(const std::string& id) {
    return fmt::format("{}/{}", kDevicesPrefix, id);
}
std::string session_path(std::int64_t id) {
    return fmt::format("{}/{}", kSessionsPrefix, id);
}

}  // namespace exhibit::bus
