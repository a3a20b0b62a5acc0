// org.exhibit.Exhibit1.Health at /org/exhibit/Exhibit1/health: version, kiosk identity,
// store state, item counts and free disk, read from the store's health.
#include <exhibit/version.hpp>

#include "daemon/bus/bus_internal.hpp"

namespace exhibit::bus {

namespace {

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

const sd_bus_vtable kHealthVtable[] = {
    SD_BUS_VTABLE_START(0),
    EXHIBIT_CONST("Version", "s", health_property),
    EXHIBIT_CONST("KioskId", "s", health_property),
    EXHIBIT_CONST("KeyFingerprint", "s", health_property),
    EXHIBIT_RO("StoreState", "s", health_property),
    EXHIBIT_RO("ItemsComplete", "t", health_property),
    EXHIBIT_RO("ItemsIncomplete", "t", health_property),
    EXHIBIT_RO("ItemsFlagged", "t", health_property),
    EXHIBIT_RO("FreeBytes", "t", health_property),
    EXHIBIT_RO("MinFreeBytes", "t", health_property),
    SD_BUS_VTABLE_END};

}  // namespace

Status export_health(sd_bus* bus, BusService* service, std::vector<SlotPtr>& slots) {
    sd_bus_slot* slot = nullptr;
    int r =
        sd_bus_add_object_vtable(bus, &slot, kHealthPath, kHealthInterface, kHealthVtable, service);
    return keep_slot(r, slot, slots, "health");
}

void emit_health_changed(sd_bus* bus) {
    (void)sd_bus_emit_properties_changed(bus, kHealthPath, kHealthInterface, "StoreState",
                                         "ItemsComplete", "ItemsIncomplete", "ItemsFlagged",
                                         "FreeBytes", nullptr);
}

}  // namespace exhibit::bus
