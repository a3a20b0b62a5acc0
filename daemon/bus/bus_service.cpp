#include "daemon/bus/bus_service.hpp"

#include <grp.h>

#include <algorithm>

#include <fmt/format.h>

#include "common/log.hpp"
#include "daemon/bus/bus_internal.hpp"
#include "daemon/bus/message_ids.hpp"
#include "daemon/officers/sign_in_desk.hpp"

namespace exhibit::bus {

const char* error_name(const Error& error) {
    switch (error.code) {
        case Errc::invalid_argument:
            return "org.exhibit.Exhibit1.Error.InvalidArgument";
        case Errc::not_found:
            return "org.exhibit.Exhibit1.Error.NotFound";
        case Errc::exists:
            return "org.exhibit.Exhibit1.Error.Busy";
        case Errc::unsupported:
            return "org.exhibit.Exhibit1.Error.Unsupported";
        case Errc::no_space:
            return "org.exhibit.Exhibit1.Error.LowDisk";
        case Errc::denied:
            return "org.exhibit.Exhibit1.Error.WrongPin";
        case Errc::locked:
            return "org.exhibit.Exhibit1.Error.Locked";
        case Errc::config:
            return "org.exhibit.Exhibit1.Error.InvalidConfig";
        default:
            return "org.exhibit.Exhibit1.Error.Failed";
    }
}

int BusService::reply_error(sd_bus_message* m, const Error& error) const {
    const char* name = error.message.starts_with("not authorized")
                           ? "org.exhibit.Exhibit1.Error.NotAuthorized"
                           : error_name(error);
    return sd_bus_reply_method_errorf(m, name, "%s", error.describe().c_str());
}

Status BusService::check_access(sd_bus_message* m, Role role) const {
    sd_bus_creds* raw = nullptr;
    int r = sd_bus_query_sender_creds(m,
                                      SD_BUS_CREDS_EUID | SD_BUS_CREDS_EGID |
                                          SD_BUS_CREDS_SUPPLEMENTARY_GIDS | SD_BUS_CREDS_AUGMENT,
                                      &raw);
    std::unique_ptr<sd_bus_creds, decltype(&sd_bus_creds_unref)> creds(raw, sd_bus_creds_unref);
    uid_t euid = static_cast<uid_t>(-1);
    if (r < 0 || sd_bus_creds_get_euid(raw, &euid) < 0)
        return fail(Errc::invalid_argument, "not authorized: the caller's credentials are unknown");
    if (euid == 0)
        return {};
    std::vector<gid_t> groups;
    gid_t egid = 0;
    if (sd_bus_creds_get_egid(raw, &egid) >= 0)
        groups.push_back(egid);
    const gid_t* gids = nullptr;
    int n = sd_bus_creds_get_supplementary_gids(raw, &gids);
    for (int i = 0; i < n; ++i)
        groups.push_back(gids[i]);
    auto member = [&](gid_t g) {
        return g != static_cast<gid_t>(-1) && std::ranges::find(groups, g) != groups.end();
    };
    if (role != Role::kiosk && member(admin_gid_))
        return {};
    if (role != Role::admin && member(officer_gid_))
        return {};
    std::string needed = options_.officer_group + " or " + options_.admin_group;
    if (role == Role::admin)
        needed = options_.admin_group;
    else if (role == Role::kiosk)
        needed = options_.officer_group;
    return fail(Errc::invalid_argument, fmt::format("not authorized: {} needs group {}",
                                                    sd_bus_message_get_member(m), needed));
}

BusService::BusService(BusServiceOptions options, BusCore core, BusHooks hooks)
    : options_(std::move(options)), core_(core), hooks_(std::move(hooks)) {
    if (auto* g = ::getgrnam(options_.officer_group.c_str()))
        officer_gid_ = g->gr_gid;
    if (auto* g = ::getgrnam(options_.admin_group.c_str()))
        admin_gid_ = g->gr_gid;
}

BusService::~BusService() {
    slots_.clear();
    if (bus_) {
        (void)sd_bus_release_name(bus_.get(), kBusName);
        sd_bus_detach_event(bus_.get());
    }
}

Result<std::unique_ptr<BusService>> BusService::start(sd_event* event, BusServiceOptions options,
                                                      BusCore core, BusHooks hooks) {
    std::unique_ptr<BusService> svc(new BusService(std::move(options), core, std::move(hooks)));
    sd_bus* raw = nullptr;
    const auto& which = svc->options_.bus;
    int r;
    if (which == "system") {
        r = sd_bus_open_system(&raw);
    } else if (which == "session") {
        r = sd_bus_open_user(&raw);
    } else {
        r = sd_bus_new(&raw);
        if (r >= 0)
            r = sd_bus_set_address(raw, which.c_str());
        if (r >= 0)
            r = sd_bus_set_bus_client(raw, 1);
        if (r >= 0)
            r = sd_bus_start(raw);
    }
    svc->bus_.reset(raw);
    if (r < 0)
        return std::unexpected(bus_error(r, fmt::format("cannot connect to the {} bus", which)));
    if ((r = sd_bus_attach_event(raw, event, SD_EVENT_PRIORITY_NORMAL)) < 0)
        return std::unexpected(bus_error(r, "cannot attach the bus to the loop"));
    if (auto s = svc->export_objects(); !s)
        return std::unexpected(s.error());
    if (auto s = svc->guard_reads(); !s)
        return std::unexpected(s.error());
    if (auto s = svc->watch_clients(); !s)
        return std::unexpected(s.error());
    if ((r = sd_bus_request_name(raw, kBusName, 0)) < 0)
        return std::unexpected(
            bus_error(r, fmt::format("cannot own {} (is the D-Bus policy installed?)", kBusName)));
    core.devices->subscribe(
        [s = svc.get()](const devices::DeviceRecord& rec, devices::DeviceChange c) {
            s->on_device(rec, c);
        });
    core.sessions->subscribe([s = svc.get()](const extract::SessionView& v) { s->on_session(v); });
    return svc;
}

Status BusService::export_objects() {
    for (auto* add : {export_manager, export_health, export_devices, export_sessions, export_queue,
                      export_officers})
        if (auto s = add(bus_.get(), this, slots_); !s)
            return s;
    return {};
}

void BusService::queue_changed() {
    emit_queue_changed(bus_.get());
}

double BusService::progress_of(const extract::SessionView& s) {
    double p = 0;
    if (s.completed && s.state == store::SessionState::completed)
        p = 1.0;
    else if (s.progress.planned_bytes > 0)
        p = std::min(1.0, static_cast<double>(s.progress.bytes_done) /
                              static_cast<double>(s.progress.planned_bytes));
    auto& best = progress_[s.id];
    best = std::max(best, p);
    return best;
}

void BusService::on_device(const devices::DeviceRecord& record, devices::DeviceChange change) {
    auto path = device_path(record.id);
    int r = 0;
    switch (change) {
        case devices::DeviceChange::added:
            r = sd_bus_emit_interfaces_added(bus_.get(), path.c_str(),
                                             "org.exhibit.Exhibit1.Device", nullptr);
            break;
        case devices::DeviceChange::changed:
            emit_device_changed(bus_.get(), record.id);
            break;
        case devices::DeviceChange::removed:
            r = sd_bus_emit_interfaces_removed(bus_.get(), path.c_str(),
                                               "org.exhibit.Exhibit1.Device", nullptr);
            break;
    }
    if (r < 0)
        log::event(
            log::Level::warning, message_id::kSendFailed,
            fmt::format("cannot signal device {}: {}", record.id,
                        bus_error(r, "sd-bus").describe()),
            {{"EXHIBIT_BUS_MEMBER",
              change == devices::DeviceChange::added ? "InterfacesAdded" : "InterfacesRemoved"},
             log::field::device(record.id),
             log::field::error_class(Errc::io)});
}

void BusService::on_session(const extract::SessionView& view) {
    auto path = session_path(view.id);
    const char* iface = "org.exhibit.Exhibit1.Session";
    if (announced_sessions_.insert(view.id).second) {
        (void)sd_bus_emit_interfaces_added(bus_.get(), path.c_str(), iface, nullptr);
    } else {
        emit_session_changed(bus_.get(), view.id);
    }
    if (view.completed && completed_sessions_.insert(view.id).second) {
        (void)sd_bus_emit_signal(bus_.get(), path.c_str(), iface, "Completed", "ss",
                                 std::string(store::to_string(view.state)).c_str(),
                                 view.reason.value_or("").c_str());
        health_changed();
    }
}

void BusService::health_changed() {
    emit_health_changed(bus_.get());
}

std::string BusService::client_of(sd_bus_message* m) {
    const char* sender = sd_bus_message_get_sender(m);
    return sender ? sender : "";
}

Status BusService::watch_clients() {
    sd_bus_slot* slot = nullptr;
    int r = sd_bus_match_signal(bus_.get(), &slot, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                "org.freedesktop.DBus", "NameOwnerChanged",
                                &BusService::on_name_owner_changed, this);
    return keep_slot(r, slot, slots_, "the watch on clients leaving the bus");
}

int BusService::on_name_owner_changed(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    try {
        auto* svc = static_cast<BusService*>(userdata);
        const char *name = nullptr, *old_owner = nullptr, *new_owner = nullptr;
        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 || !name ||
            !new_owner || *new_owner != '\0' || !svc->core_.desk)
            return 0;
        svc->desk().sign_out(name, "disconnected");  // does nothing unless it was signed in
    } catch (...) {
        log::event(
            log::Level::error, message_id::kHandlerFailed, "cannot handle a client leaving the bus",
            {{"EXHIBIT_BUS_MEMBER", "NameOwnerChanged"}, log::field::error_class(Errc::internal)});
    }
    return 0;
}

// sd-bus answers Properties.Get, GetAll and Set and ObjectManager.GetManagedObjects itself,
// from the vtables, so the check in method_for never sees them: without this filter, which
// sees every message before sd-bus dispatches it, a loose bus policy would let any user read
// a phone's serial number or a session's progress. Reading is for the officer role (either
// group, or root); no property is writable, and a Set that passes is refused as read-only.
// Introspect and Peer stay open to everyone, as in the bus policy: they carry no values.
Status BusService::guard_reads() {
    sd_bus_slot* slot = nullptr;
    int r = sd_bus_add_filter(bus_.get(), &slot, &BusService::on_incoming, this);
    return keep_slot(r, slot, slots_, "the check on property reads");
}

int BusService::on_incoming(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    if (!sd_bus_message_is_method_call(m, "org.freedesktop.DBus.Properties", nullptr) &&
        !sd_bus_message_is_method_call(m, "org.freedesktop.DBus.ObjectManager", nullptr))
        return 0;
    auto* svc = static_cast<BusService*>(userdata);
    try {
        if (auto s = svc->check_access(m, Role::officer); !s) {
            int r = svc->reply_error(m, s.error());
            return r < 0 ? r : 1;  // answered: sd-bus goes no further with this call
        }
        return 0;
    } catch (...) {
        const char* member = sd_bus_message_get_member(m);
        log::event(log::Level::error, message_id::kHandlerFailed,
                   fmt::format("cannot check the caller of {}", member ? member : ""),
                   {{"EXHIBIT_BUS_MEMBER", member ? member : ""},
                    log::field::error_class(Errc::internal)});
    }
    // Refused rather than let through unchecked.
    int r = sd_bus_reply_method_errorf(m, "org.exhibit.Exhibit1.Error.Failed", "internal error");
    return r < 0 ? r : 1;
}

Status keep_slot(int r, sd_bus_slot* slot, std::vector<SlotPtr>& slots, std::string_view what) {
    if (r < 0)
        return std::unexpected(bus_error(r, fmt::format("cannot export {}", what)));
    slots.emplace_back(slot);
    return {};
}

char** to_strv(const std::vector<std::string>& paths) {
    auto** out = static_cast<char**>(calloc(paths.size() + 1, sizeof(char*)));
    for (std::size_t i = 0; out && i < paths.size(); ++i)
        out[i] = strdup(paths[i].c_str());
    return out;
}

}  // namespace exhibit::bus
