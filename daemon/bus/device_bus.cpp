// org.exhibit.Exhibit1.Device at /org/exhibit/Exhibit1/devices/<id>: one object per phone
// in the device registry, listed by the object manager.
#include <fmt/format.h>

#include "daemon/bus/bus_internal.hpp"

namespace exhibit::bus {

namespace {

const devices::DeviceRecord* device_at(BusService* svc, const char* path) {
    auto id = device_id_of(path ? path : "");
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
        if (p == "Categories" || p == "CategoriesNote") {
            // What the device's family can take, and why not the rest (empty: everything).
            const auto* driver = service_of(userdata)->sessions().driver_for(d->id);
            if (p == "CategoriesNote")
                return sd_bus_message_append(
                    reply, "s", driver ? std::string(driver->categories_note()).c_str() : "");
            int r = sd_bus_message_open_container(reply, 'a', "s");
            if (driver)
                for (auto c : driver->categories())
                    if (r >= 0)
                        r = sd_bus_message_append(reply, "s",
                                                  std::string(drivers::to_string(c)).c_str());
            return r < 0 ? r : sd_bus_message_close_container(reply);
        }
        if (p == "Speed")
            return sd_bus_message_append(reply, "s", d->identity.speed.c_str());
        return -ENOENT;
    } catch (...) {
        return -EIO;
    }
}

int find_device(sd_bus*, const char* path, const char*, void* userdata, void** found,
                sd_bus_error*) noexcept {
    if (!device_at(service_of(userdata), path))
        return 0;
    *found = userdata;
    return 1;
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

const sd_bus_vtable kDeviceVtable[] = {SD_BUS_VTABLE_START(0),
                                       EXHIBIT_CONST("Id", "s", device_property),
                                       EXHIBIT_CONST("Classes", "as", device_property),
                                       EXHIBIT_RO("State", "s", device_property),
                                       EXHIBIT_RO("Detail", "s", device_property),
                                       EXHIBIT_CONST("Transport", "s", device_property),
                                       EXHIBIT_CONST("VendorId", "q", device_property),
                                       EXHIBIT_CONST("ProductId", "q", device_property),
                                       EXHIBIT_CONST("Manufacturer", "s", device_property),
                                       EXHIBIT_CONST("Product", "s", device_property),
                                       EXHIBIT_CONST("Serial", "s", device_property),
                                       EXHIBIT_CONST("BusPath", "s", device_property),
                                       EXHIBIT_CONST("Speed", "s", device_property),
                                       EXHIBIT_CONST("Categories", "as", device_property),
                                       EXHIBIT_CONST("CategoriesNote", "s", device_property),
                                       SD_BUS_VTABLE_END};

}  // namespace

Status export_devices(sd_bus* bus, BusService* service, std::vector<SlotPtr>& slots) {
    sd_bus_slot* slot = nullptr;
    int r = sd_bus_add_fallback_vtable(bus, &slot, kDevicesPath.data(), kDeviceInterface,
                                       kDeviceVtable, find_device, service);
    if (auto s = keep_slot(r, slot, slots, "devices"); !s)
        return s;
    r = sd_bus_add_node_enumerator(bus, &slot, kDevicesPath.data(), enumerate_devices, service);
    return keep_slot(r, slot, slots, "the device list");
}

void emit_device_changed(sd_bus* bus, const std::string& device_id) {
    (void)sd_bus_emit_properties_changed(bus, device_path(device_id).c_str(), kDeviceInterface,
                                         "State", "Detail", nullptr);
}

std::string device_path(const std::string& id) {
    return fmt::format("{}/{}", kDevicesPath, id);
}

std::optional<std::string> device_id_of(std::string_view path) {
    if (!path.starts_with(kDevicesPath) || path.size() <= kDevicesPath.size() + 1 ||
        path[kDevicesPath.size()] != '/')
        return std::nullopt;
    auto id = path.substr(kDevicesPath.size() + 1);
    if (id.find('/') != std::string_view::npos)
        return std::nullopt;
    return std::string(id);
}

}  // namespace exhibit::bus
