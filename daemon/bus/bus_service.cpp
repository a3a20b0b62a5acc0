#include "bus_service.hpp"

#include <grp.h>

#include <algorithm>

#include <fmt/format.h>

#include "common/bus_dict.hpp"
#include "common/log.hpp"
#include "daemon/bus/bus_objects.hpp"
#include "daemon/bus/receipt.hpp"
#include "daemon/bus/requests.hpp"

namespace exhibit::bus {

namespace {

BusService* service_of(void* userdata) {
    return static_cast<BusService*>(userdata);
}

std::optional<std::string> device_id_of(std::string_view path) {
    constexpr std::string_view prefix = "/org/exhibit/Exhibit1/devices/";
    if (!path.starts_with(prefix) || path.size() == prefix.size())
        return std::nullopt;
    return std::string(path.substr(prefix.size()));
}

std::optional<std::int64_t> session_id_of(std::string_view path) {
    constexpr std::string_view prefix = "/org/exhibit/Exhibit1/sessions/";
    if (!path.starts_with(prefix))
        return std::nullopt;
    auto id = path.substr(prefix.size());
    if (id.empty() || id.size() > 18 ||
        id.find_first_not_of("0123456789") != std::string_view::npos)
        return std::nullopt;
    return std::stoll(std::string(id));
}

// Reads an object path argument naming a device.
Result<std::string> read_device_arg(sd_bus_message* m) {
    const char* path = nullptr;
    if (int r = sd_bus_message_read_basic(m, 'o', &path); r < 0)
        return std::unexpected(bus_error(r, "bad device"));
    auto id = device_id_of(path ? path : "");
    if (!id)
        return fail(Errc::not_found,
                    fmt::format("\"{}\" is not a device object", path ? path : ""));
    return *id;
}

// The device argument, checked to exist before anything else is looked at.
Result<std::string> read_known_device(BusService* svc, sd_bus_message* m) {
    auto id = read_device_arg(m);
    if (id && !svc->devices().find(*id))
        return fail(Errc::not_found, fmt::format("there is no device \"{}\"", *id));
    return id;
}

// Wraps a handler: any escaping exception becomes Error.Failed (the trampoline is noexcept).
template <class F>
int guarded(sd_bus_message* m, void* userdata, F&& body) noexcept {
    try {
        return body(service_of(userdata));
    } catch (const std::exception& e) {
        log::error("D-Bus method {} failed: {}", sd_bus_message_get_member(m), e.what());
        return sd_bus_reply_method_errorf(m, "org.exhibit.Exhibit1.Error.Failed", "internal error");
    } catch (...) {
        return sd_bus_reply_method_errorf(m, "org.exhibit.Exhibit1.Error.Failed", "internal error");
    }
}

int method_preview(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    return guarded(m, userdata, [&](BusService* svc) {
        if (auto s = svc->check_access(m, Role::officer); !s)
            return svc->reply_error(m, s.error());
        auto device = read_known_device(svc, m);
        if (!device)
            return svc->reply_error(m, device.error());
        auto scope_args = read_value_map(m);
        if (!scope_args)
            return svc->reply_error(m, scope_args.error());
        if (auto s = read_no_options(m); !s)
            return svc->reply_error(m, s.error());
        auto scope = parse_scope(*scope_args);
        if (!scope)
            return svc->reply_error(m, scope.error());
        // The reply comes when the worker is done; keep the call alive until then.
        MessagePtr call(sd_bus_message_ref(m));
        svc->sessions().preview(
            *device, *scope,
            [svc, call = std::shared_ptr<sd_bus_message>(call.release(), sd_bus_message_unref)](
                Result<drivers::Preview> result) {
                if (!result) {
                    svc->reply_error(call.get(), result.error());
                    return;
                }
                sd_bus_message* reply = nullptr;
                int r = sd_bus_message_new_method_return(call.get(), &reply);
                MessagePtr owned(reply);
                if (r >= 0)
                    r = sd_bus_message_open_container(reply, 'a', "{s(tt)}");
                for (const auto& [category, count] : *result)
                    if (r >= 0)
                        r = sd_bus_message_append(reply, "{s(tt)}",
                                                  std::string(drivers::to_string(category)).c_str(),
                                                  count.count, count.bytes);
                if (r >= 0)
                    r = sd_bus_message_close_container(reply);
                if (r >= 0)
                    r = sd_bus_send(nullptr, reply, nullptr);
                if (r < 0)
                    log::warning("cannot send the preview reply: {}",
                                 bus_error(r, "sd-bus").describe());
            });
        return 1;
    });
}

int method_start_extraction(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    return guarded(m, userdata, [&](BusService* svc) {
        if (auto s = svc->check_access(m, Role::officer); !s)
            return svc->reply_error(m, s.error());
        auto device = read_known_device(svc, m);
        if (!device)
            return svc->reply_error(m, device.error());
        auto case_args = read_value_map(m);
        if (!case_args)
            return svc->reply_error(m, case_args.error());
        auto scope_args = read_value_map(m);
        if (!scope_args)
            return svc->reply_error(m, scope_args.error());
        auto options = read_value_map(m);
        if (!options)
            return svc->reply_error(m, options.error());
        if (auto s = only_keys(*options, {"priority"}, "options"); !s)
            return svc->reply_error(m, s.error());
        auto spec = parse_case(*case_args);
        if (!spec)
            return svc->reply_error(m, spec.error());
        auto scope = parse_scope(*scope_args);
        if (!scope)
            return svc->reply_error(m, scope.error());
        auto priority = parse_priority(*options);
        if (!priority)
            return svc->reply_error(m, priority.error());
        if (auto h = svc->store().health(); h && h->free_bytes < svc->options().min_free_bytes)
            return svc->reply_error(
                m,
                Error{Errc::no_space,
                      fmt::format("only {} MiB free on the kiosk (needs {} MiB): new extractions "
                                  "are refused until uploads free space",
                                  h->free_bytes >> 20, svc->options().min_free_bytes >> 20),
                      0});
        extract::StartRequest request{.device_id = *device,
                                      .case_spec = *spec,
                                      .scope = *scope,
                                      .priority = *priority,
                                      .actor = "officer:" + spec->officer_id};
        auto id = svc->sessions().start(request);
        if (!id)
            return svc->reply_error(m, id.error());
        return sd_bus_reply_method_return(m, "o", session_path(*id).c_str());
    });
}

int method_get_receipt(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    return guarded(m, userdata, [&](BusService* svc) {
        if (auto s = svc->check_access(m, Role::officer); !s)
            return svc->reply_error(m, s.error());
        const char* path = nullptr;
        if (int r = sd_bus_message_read_basic(m, 'o', &path); r < 0)
            return svc->reply_error(m, bus_error(r, "bad session"));
        if (auto s = read_no_options(m); !s)
            return svc->reply_error(m, s.error());
        auto id = session_id_of(path ? path : "");
        if (!id)
            return svc->reply_error(
                m, Error{Errc::not_found, fmt::format("\"{}\" is not a session", path), 0});
        auto receipt = session_receipt(svc->store(), *id);
        if (!receipt)
            return svc->reply_error(m, receipt.error());
        sd_bus_message* reply = nullptr;
        int r = sd_bus_message_new_method_return(m, &reply);
        MessagePtr owned(reply);
        if (r >= 0)
            r = sd_bus_message_open_container(reply, 'a', "{sv}");
        for (const auto& [key, value] : *receipt) {
            if (r < 0)
                break;
            if (auto* s = std::get_if<std::string>(&value))
                r = sd_bus_message_append(reply, "{sv}", key.c_str(), "s", s->c_str());
            else if (auto* t = std::get_if<std::uint64_t>(&value))
                r = sd_bus_message_append(reply, "{sv}", key.c_str(), "t", *t);
            else if (auto* x = std::get_if<std::int64_t>(&value))
                r = sd_bus_message_append(reply, "{sv}", key.c_str(), "x", *x);
        }
        if (r >= 0)
            r = sd_bus_message_close_container(reply);
        if (r >= 0)
            r = sd_bus_send(nullptr, reply, nullptr);
        return r;
    });
}

int method_add_network_device(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    return guarded(m, userdata, [&](BusService* svc) {
        if (auto s = svc->check_access(m, Role::admin); !s)
            return svc->reply_error(m, s.error());
        const char* address = nullptr;
        if (int r = sd_bus_message_read_basic(m, 's', &address); r < 0)
            return svc->reply_error(m, bus_error(r, "bad address"));
        if (auto s = read_no_options(m); !s)
            return svc->reply_error(m, s.error());
        if (!svc->hooks().add_network_device)
            return svc->reply_error(m, Error{Errc::unsupported, "not available", 0});
        auto id = svc->hooks().add_network_device(address ? address : "");
        if (!id)
            return svc->reply_error(m, id.error());
        return sd_bus_reply_method_return(m, "o", device_path(*id).c_str());
    });
}

// ReloadConfig's reply: a{sv} with "applied", "restart_required" and "problems", each `as`.
int reply_reload_report(sd_bus_message* m, const ReloadReport& report) {
    sd_bus_message* reply = nullptr;
    int r = sd_bus_message_new_method_return(m, &reply);
    MessagePtr owned(reply);
    if (r >= 0)
        r = sd_bus_message_open_container(reply, 'a', "{sv}");
    if (r >= 0)
        r = append_string_list_entry(reply, "applied", report.applied);
    if (r >= 0)
        r = append_string_list_entry(reply, "restart_required", report.restart_required);
    if (r >= 0)
        r = append_string_list_entry(reply, "problems", report.problems);
    if (r >= 0)
        r = sd_bus_message_close_container(reply);
    if (r >= 0)
        r = sd_bus_send(nullptr, reply, nullptr);
    return r;
}

int method_reload_config(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    return guarded(m, userdata, [&](BusService* svc) {
        if (auto s = svc->check_access(m, Role::admin); !s)
            return svc->reply_error(m, s.error());
        if (auto s = read_no_options(m); !s)
            return svc->reply_error(m, s.error());
        if (!svc->hooks().reload_config)
            return svc->reply_error(m, Error{Errc::unsupported, "not available", 0});
        auto report = svc->hooks().reload_config(admin_actor(m));
        if (!report)
            return svc->reply_error(m, report.error());
        return reply_reload_report(m, *report);
    });
}

int method_verify_audit(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    return guarded(m, userdata, [&](BusService* svc) {
        if (auto s = svc->check_access(m, Role::admin); !s)
            return svc->reply_error(m, s.error());
        if (auto s = read_no_options(m); !s)
            return svc->reply_error(m, s.error());
        auto report = svc->store().audit().verify();
        if (!report)
            return svc->reply_error(m, report.error());
        return sd_bus_reply_method_return(
            m, "btts", report->ok(), report->entries,
            static_cast<std::uint64_t>(report->first_broken.value_or(0)), report->problem.c_str());
    });
}

const sd_bus_vtable kManagerVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD_WITH_NAMES(
        "Preview", "oa{sv}a{sv}", SD_BUS_PARAM(device) SD_BUS_PARAM(scope) SD_BUS_PARAM(options),
        "a{s(tt)}", SD_BUS_PARAM(counts), method_preview, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES(
        "StartExtraction", "oa{sv}a{sv}a{sv}",
        SD_BUS_PARAM(device) SD_BUS_PARAM(case) SD_BUS_PARAM(scope) SD_BUS_PARAM(options), "o",
        SD_BUS_PARAM(session), method_start_extraction, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("GetReceipt", "oa{sv}", SD_BUS_PARAM(session) SD_BUS_PARAM(options),
                             "a{sv}", SD_BUS_PARAM(receipt), method_get_receipt,
                             SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("AddNetworkDevice", "sa{sv}",
                             SD_BUS_PARAM(address) SD_BUS_PARAM(options), "o", SD_BUS_PARAM(device),
                             method_add_network_device, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("ReloadConfig", "a{sv}", SD_BUS_PARAM(options), "a{sv}",
                             SD_BUS_PARAM(report), method_reload_config,
                             SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("VerifyAudit", "a{sv}", SD_BUS_PARAM(options), "btts",
                             SD_BUS_PARAM(ok) SD_BUS_PARAM(entries) SD_BUS_PARAM(first_broken)
                                 SD_BUS_PARAM(problem),
                             method_verify_audit, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END};

}  // namespace

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
    if (member(admin_gid_))
        return {};
    if (role == Role::officer && member(officer_gid_))
        return {};
    return fail(
        Errc::invalid_argument,
        fmt::format("not authorized: {} needs group {}", sd_bus_message_get_member(m),
                    role == Role::admin ? options_.admin_group
                                        : options_.officer_group + " or " + options_.admin_group));
}

BusService::BusService(BusServiceOptions options, store::Store& store,
                       devices::DeviceRegistry& devices, extract::SessionManager& sessions,
                       BusHooks hooks)
    : options_(std::move(options)),
      store_(&store),
      devices_(&devices),
      sessions_(&sessions),
      hooks_(std::move(hooks)) {
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
                                                      store::Store& store,
                                                      devices::DeviceRegistry& devices,
                                                      extract::SessionManager& sessions,
                                                      BusHooks hooks, upload::Uploader* uploader) {
    std::unique_ptr<BusService> svc(
        new BusService(std::move(options), store, devices, sessions, std::move(hooks)));
    svc->uploader_ = uploader;
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
    if ((r = sd_bus_request_name(raw, kBusName, 0)) < 0)
        return std::unexpected(
            bus_error(r, fmt::format("cannot own {} (is the D-Bus policy installed?)", kBusName)));
    devices.subscribe([s = svc.get()](const devices::DeviceRecord& rec, devices::DeviceChange c) {
        s->on_device(rec, c);
    });
    sessions.subscribe([s = svc.get()](const extract::SessionView& v) { s->on_session(v); });
    return svc;
}

Status BusService::export_objects() {
    sd_bus_slot* slot = nullptr;
    int r = sd_bus_add_object_manager(bus_.get(), &slot, kRootPath);
    if (r < 0)
        return std::unexpected(bus_error(r, "cannot add the object manager"));
    slots_.emplace_back(slot);
    r = sd_bus_add_object_vtable(bus_.get(), &slot, kRootPath, "org.exhibit.Exhibit1.Manager",
                                 kManagerVtable, this);
    if (r < 0)
        return std::unexpected(bus_error(r, "cannot export the manager"));
    slots_.emplace_back(slot);
    if (auto s = add_object_vtables(bus_.get(), this, slots_); !s)
        return s;
    return add_queue_vtable(bus_.get(), this, slots_);
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
            r = sd_bus_emit_properties_changed(bus_.get(), path.c_str(),
                                               "org.exhibit.Exhibit1.Device", "State", "Detail",
                                               nullptr);
            break;
        case devices::DeviceChange::removed:
            r = sd_bus_emit_interfaces_removed(bus_.get(), path.c_str(),
                                               "org.exhibit.Exhibit1.Device", nullptr);
            break;
    }
    if (r < 0)
        log::warning("cannot signal device {}: {}", record.id, bus_error(r, "sd-bus").describe());
}

void BusService::on_session(const extract::SessionView& view) {
    auto path = session_path(view.id);
    const char* iface = "org.exhibit.Exhibit1.Session";
    if (announced_sessions_.insert(view.id).second) {
        (void)sd_bus_emit_interfaces_added(bus_.get(), path.c_str(), iface, nullptr);
    } else {
        (void)sd_bus_emit_properties_changed(bus_.get(), path.c_str(), iface, "State", "Reason",
                                             "Progress", "BytesDone", "BytesTotal", "Rate",
                                             "ItemsDone", "ItemsTotal", "ItemsIncomplete",
                                             "ItemsSkipped", "CurrentItem", nullptr);
    }
    if (view.completed && completed_sessions_.insert(view.id).second) {
        (void)sd_bus_emit_signal(bus_.get(), path.c_str(), iface, "Completed", "ss",
                                 std::string(store::to_string(view.state)).c_str(),
                                 view.reason.value_or("").c_str());
        health_changed();
    }
}

void BusService::health_changed() {
    (void)sd_bus_emit_properties_changed(
        bus_.get(), "/org/exhibit/Exhibit1/health", "org.exhibit.Exhibit1.Health", "StoreState",
        "ItemsComplete", "ItemsIncomplete", "ItemsFlagged", "FreeBytes", nullptr);
}

}  // namespace exhibit::bus
