// Internal to the D-Bus edge: what its files share. There is one file per interface
// (manager_bus.cpp, health_bus.cpp, device_bus.cpp, session_bus.cpp, queue_bus.cpp), each
// with its handlers, its vtable and an export function; bus_service.cpp connects, exports
// them all, checks callers and maps errors. Handlers translate only: every rule lives in the
// core they call.
#pragma once

#include <systemd/sd-bus.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.hpp"
#include "daemon/bus/bus_message.hpp"
#include "daemon/bus/bus_service.hpp"
#include "daemon/bus/message_ids.hpp"

namespace exhibit::bus {

inline constexpr std::string_view kDevicesPath = "/org/exhibit/Exhibit1/devices";
inline constexpr std::string_view kSessionsPath = "/org/exhibit/Exhibit1/sessions";
inline constexpr const char* kHealthPath = "/org/exhibit/Exhibit1/health";
inline constexpr const char* kQueuePath = "/org/exhibit/Exhibit1/queue";
inline constexpr const char* kOfficersPath = "/org/exhibit/Exhibit1/officers";
inline constexpr const char* kManagerInterface = "org.exhibit.Exhibit1.Manager";
inline constexpr const char* kHealthInterface = "org.exhibit.Exhibit1.Health";
inline constexpr const char* kDeviceInterface = "org.exhibit.Exhibit1.Device";
inline constexpr const char* kSessionInterface = "org.exhibit.Exhibit1.Session";
inline constexpr const char* kQueueInterface = "org.exhibit.Exhibit1.Queue";
inline constexpr const char* kOfficersInterface = "org.exhibit.Exhibit1.Officers";

inline BusService* service_of(void* userdata) {
    return static_cast<BusService*>(userdata);
}

// The id in ".../devices/<id>" or ".../sessions/<id>"; nullopt for any other path.
std::optional<std::string> device_id_of(std::string_view path);
std::optional<std::int64_t> session_id_of(std::string_view path);

// Reads the `(o session, a{sv} options)` arguments of a Manager method about one session:
// the session's id, or an error naming a path that is not a session or an unknown option.
Result<std::int64_t> read_session_argument(sd_bus_message* m);

// Runs a method handler for a caller whose groups allow `role`; anything thrown becomes
// Error.Failed (the sd-bus trampolines are noexcept).
template <class F>
int method_for(Role role, sd_bus_message* m, void* userdata, F&& body) noexcept {
    try {
        auto* svc = service_of(userdata);
        if (auto s = svc->check_access(m, role); !s)
            return svc->reply_error(m, s.error());
        return body(svc);
    } catch (const std::exception& e) {
        const char* member = sd_bus_message_get_member(m);
        log::event(log::Level::error, message_id::kHandlerFailed,
                   fmt::format("D-Bus method {} failed: {}", member, e.what()),
                   {{"EXHIBIT_BUS_MEMBER", member ? member : ""},
                    log::field::error_class(Errc::internal)});
    } catch (...) {
        const char* member = sd_bus_message_get_member(m);
        log::event(log::Level::error, message_id::kHandlerFailed,
                   fmt::format("D-Bus method {} failed", member),
                   {{"EXHIBIT_BUS_MEMBER", member ? member : ""},
                    log::field::error_class(Errc::internal)});
    }
    return sd_bus_reply_method_errorf(m, "org.exhibit.Exhibit1.Error.Failed", "internal error");
}

// A NULL-terminated strv for a node enumerator (sd-bus frees it), or null when out of memory.
char** to_strv(const std::vector<std::string>& paths);

// Keeps a slot that sd-bus handed out for an export, or names what could not be exported.
Status keep_slot(int r, sd_bus_slot* slot, std::vector<SlotPtr>& slots, std::string_view what);

// One per interface file: adds its objects (vtables, fallbacks, node enumerators).
Status export_manager(sd_bus* bus, BusService* service, std::vector<SlotPtr>& slots);
Status export_health(sd_bus* bus, BusService* service, std::vector<SlotPtr>& slots);
Status export_devices(sd_bus* bus, BusService* service, std::vector<SlotPtr>& slots);
Status export_sessions(sd_bus* bus, BusService* service, std::vector<SlotPtr>& slots);
Status export_queue(sd_bus* bus, BusService* service, std::vector<SlotPtr>& slots);
Status export_officers(sd_bus* bus, BusService* service, std::vector<SlotPtr>& slots);

// PropertiesChanged for the properties that change.
void emit_health_changed(sd_bus* bus);
void emit_queue_changed(sd_bus* bus);
void emit_device_changed(sd_bus* bus, const std::string& device_id);
void emit_session_changed(sd_bus* bus, std::int64_t session_id);

#define EXHIBIT_RO(name, sig, getter) \
    SD_BUS_PROPERTY(name, sig, getter, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE)
#define EXHIBIT_CONST(name, sig, getter) \
    SD_BUS_PROPERTY(name, sig, getter, 0, SD_BUS_VTABLE_PROPERTY_CONST)

}  // namespace exhibit::bus
