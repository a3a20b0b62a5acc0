// org.exhibit.Exhibit1.Officers at /org/exhibit/Exhibit1/officers (admin): who may sign in at
// the kiosk. PINs arrive here only to be hashed; they are never logged or kept in clear.
#include "daemon/bus/bus_internal.hpp"
#include "daemon/officers/sign_in_desk.hpp"

namespace exhibit::bus {

namespace {

int method_add(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    return method_for(Role::admin, m, userdata, [&](BusService* svc) {
        const char *id = nullptr, *name = nullptr, *pin = nullptr;
        if (int r = sd_bus_message_read(m, "sss", &id, &name, &pin); r < 0)
            return svc->reply_error(m, bus_error(r, "bad arguments"));
        if (auto s = read_no_options(m); !s)
            return svc->reply_error(m, s.error());
        if (auto s = svc->desk().add(id ? id : "", name ? name : "", pin ? pin : "",
                                     admin_actor(m));
            !s)
            return svc->reply_error(m, s.error());
        return sd_bus_reply_method_return(m, "");
    });
}

// Remove and Unlock: (s id, a{sv} options).
template <class F>
int id_method(sd_bus_message* m, void* userdata, F&& act) noexcept {
    return method_for(Role::admin, m, userdata, [&](BusService* svc) {
        const char* id = nullptr;
        if (int r = sd_bus_message_read(m, "s", &id); r < 0)
            return svc->reply_error(m, bus_error(r, "bad officer id"));
        if (auto s = read_no_options(m); !s)
            return svc->reply_error(m, s.error());
        if (Status s = act(svc->desk(), std::string_view(id ? id : ""), admin_actor(m)); !s)
            return svc->reply_error(m, s.error());
        return sd_bus_reply_method_return(m, "");
    });
}

int method_remove(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    return id_method(m, userdata, [](officers::SignInDesk& desk, std::string_view id,
                                     const std::string& actor) { return desk.remove(id, actor); });
}

int method_unlock(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    return id_method(m, userdata, [](officers::SignInDesk& desk, std::string_view id,
                                     const std::string& actor) { return desk.unlock(id, actor); });
}

int method_list(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    return method_for(Role::admin, m, userdata, [&](BusService* svc) {
        if (auto s = read_no_options(m); !s)
            return svc->reply_error(m, s.error());
        auto officers = svc->desk().list();
        if (!officers)
            return svc->reply_error(m, officers.error());
        sd_bus_message* reply = nullptr;
        int r = sd_bus_message_new_method_return(m, &reply);
        MessagePtr owned(reply);
        if (r >= 0)
            r = sd_bus_message_open_container(reply, 'a', "(ssx)");
        for (const auto& o : *officers)
            if (r >= 0)
                r = sd_bus_message_append(reply, "(ssx)", o.id.c_str(), o.name.c_str(),
                                          o.locked_until ? to_unix_ms(*o.locked_until)
                                                         : std::int64_t{0});
        if (r >= 0)
            r = sd_bus_message_close_container(reply);
        if (r >= 0)
            r = sd_bus_send(nullptr, reply, nullptr);
        return r;
    });
}

const sd_bus_vtable kOfficersVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD_WITH_NAMES("Add", "sssa{sv}",
                             SD_BUS_PARAM(id) SD_BUS_PARAM(name) SD_BUS_PARAM(pin)
                                 SD_BUS_PARAM(options),
                             "", , method_add, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
    SD_BUS_METHOD_WITH_NAMES("Remove", "sa{sv}", SD_BUS_PARAM(id) SD_BUS_PARAM(options), "", ,
                             method_remove, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("Unlock", "sa{sv}", SD_BUS_PARAM(id) SD_BUS_PARAM(options), "", ,
                             method_unlock, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("List", "a{sv}", SD_BUS_PARAM(options), "a(ssx)",
                             SD_BUS_PARAM(officers), method_list, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END};

}  // namespace

Status export_officers(sd_bus* bus, BusService* service, std::vector<SlotPtr>& slots) {
    sd_bus_slot* slot = nullptr;
    int r = sd_bus_add_object_vtable(bus, &slot, kOfficersPath, kOfficersInterface,
                                     kOfficersVtable, service);
    return keep_slot(r, slot, slots, "the officers");
}

}  // namespace exhibit::bus
