// org.exhibit.Exhibit1.Manager at /org/exhibit/Exhibit1: previews, extractions, receipts
// (officer), network phones, configuration reloads and the audit check (admin).
#include <fmt/format.h>

#include "daemon/bus/bus_internal.hpp"
#include "daemon/bus/requests.hpp"
#include "daemon/notices/notice_library.hpp"
#include "daemon/officers/sign_in_desk.hpp"
#include "daemon/store/receipt.hpp"
#include "daemon/upload/uploader.hpp"

namespace exhibit::bus {

namespace {

// Reads an object path argument naming a device that exists now.
Result<std::string> read_known_device(BusService* svc, sd_bus_message* m) {
    const char* path = nullptr;
    if (int r = sd_bus_message_read_basic(m, 'o', &path); r < 0)
        return std::unexpected(bus_error(r, "bad device"));
    auto id = device_id_of(path ? path : "");
    if (!id)
        return fail(Errc::not_found,
                    fmt::format("\"{}\" is not a device object", path ? path : ""));
    if (!svc->devices().find(*id))
        return fail(Errc::not_found, fmt::format("there is no device \"{}\"", *id));
    return *id;
}

int reply_preview(sd_bus_message* call, const drivers::Preview& preview) {
    sd_bus_message* reply = nullptr;
    int r = sd_bus_message_new_method_return(call, &reply);
    MessagePtr owned(reply);
    if (r >= 0)
        r = sd_bus_message_open_container(reply, 'a', "{s(tt)}");
    for (const auto& [category, count] : preview)
        if (r >= 0)
            r = sd_bus_message_append(reply, "{s(tt)}",
                                      std::string(drivers::to_string(category)).c_str(),
                                      count.count, count.bytes);
    if (r >= 0)
        r = sd_bus_message_close_container(reply);
    if (r >= 0)
        r = sd_bus_send(nullptr, reply, nullptr);
    return r;
}

int method_preview(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    return method_for(Role::officer, m, userdata, [&](BusService* svc) {
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
        std::shared_ptr<sd_bus_message> call(sd_bus_message_ref(m), sd_bus_message_unref);
        svc->sessions().preview(*device, *scope,
                                [svc, call](Result<drivers::Preview> result) {
                                    int r = result ? reply_preview(call.get(), *result)
                                                   : svc->reply_error(call.get(), result.error());
                                    if (r < 0)
                                        log::event(log::Level::warning, message_id::kSendFailed,
                                                   fmt::format("cannot send the preview reply: {}",
                                                               bus_error(r, "sd-bus").describe()),
                                                   {{"EXHIBIT_BUS_MEMBER", "Preview"},
                                                    log::field::error_class(Errc::io)});
                                });
        return 1;
    });
}

int method_start_extraction(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    return method_for(Role::kiosk, m, userdata, [&](BusService* svc) {
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
        auto officer = svc->desk().officer_of(BusService::client_of(m));
        auto spec = parse_case(*case_args, officer ? std::optional(officer->officer_id)
                                                   : std::nullopt);
        if (!spec)
            return svc->reply_error(m, spec.error());
        if (spec->basis == store::LawfulBasis::consent) {
            auto notice = svc->notices().consent_record(
                spec->basis_detail.value("notice_version", std::string()));
            if (!notice)
                return svc->reply_error(m, notice.error());
            spec->basis_detail.update(*notice);
        }
        auto scope = parse_scope(*scope_args);
        if (!scope)
            return svc->reply_error(m, scope.error());
        auto priority = parse_priority(*options);
        if (!priority)
            return svc->reply_error(m, priority.error());
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

ValueMap receipt_values(const store::SessionReceipt& r, const std::string& kiosk_id) {
    const auto& s = r.session;
    ValueMap v;
    const auto& c = r.kase.spec;
    v["case_reference"] = c.case_reference;
    v["exhibit_reference"] = c.exhibit_reference;
    v["officer_id"] = c.officer_id;
    v["basis"] = std::string(store::to_string(c.basis));
    v["state"] = std::string(store::to_string(s.state));
    v["reason"] = s.state_reason.value_or("");
    v["started"] = s.started_at_ms;
    v["ended"] = s.ended_at_ms.value_or(0);
    v["device"] = s.device.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    v["items"] = r.items;
    v["items_incomplete"] = r.items_incomplete;
    v["bytes"] = r.bytes;
    v["items_received_by_dfu"] = r.items_received_by_dfu;
    v["seal_sha256"] = r.seal_sha256;
    v["manifest_sha256"] = r.manifest_sha256;
    v["manifest_upload_state"] = r.manifest_upload_state;
    v["upload_state"] = r.upload_state;
    v["priority"] = std::string(store::to_string(s.priority));
    v["kiosk_id"] = kiosk_id;
    v["owner"] = c.owner ? std::string(store::to_string(*c.owner)) : std::string();
    for (const char* key : {"notice_version", "notice_sha256", "agreed_by", "basis_reason"})
        v[key] = c.basis_detail.is_object() ? c.basis_detail.value(key, std::string()) : "";
    v["scope"] = r.scope_summary;
    for (const auto& [category, total] : r.categories) {
        v["items." + category] = total.items;
        v["bytes." + category] = total.bytes;
    }
    return v;
}

int method_get_receipt(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    return method_for(Role::officer, m, userdata, [&](BusService* svc) {
        auto id = read_session_argument(m);
        if (!id)
            return svc->reply_error(m, id.error());
        auto receipt = store::session_receipt(svc->store(), *id);
        if (!receipt)
            return svc->reply_error(m, receipt.error());
        sd_bus_message* reply = nullptr;
        int r = sd_bus_message_new_method_return(m, &reply);
        MessagePtr owned(reply);
        if (r >= 0)
            r = append_value_map(reply, receipt_values(*receipt, svc->options().kiosk_id));
        if (r >= 0)
            r = sd_bus_send(nullptr, reply, nullptr);
        return r;
    });
}

int method_add_network_device(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    return method_for(Role::admin, m, userdata, [&](BusService* svc) {
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
        r = append_value_map(reply, {{"applied", report.applied},
                                     {"restart_required", report.restart_required},
                                     {"problems", report.problems}});
    if (r >= 0)
        r = sd_bus_send(nullptr, reply, nullptr);
    return r;
}

int method_reload_config(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    return method_for(Role::admin, m, userdata, [&](BusService* svc) {
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
    return method_for(Role::admin, m, userdata, [&](BusService* svc) {
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

int method_sign_in(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    return method_for(Role::officer, m, userdata, [&](BusService* svc) {
        const char *id = nullptr, *pin = nullptr;
        if (int r = sd_bus_message_read(m, "ss", &id, &pin); r < 0)
            return svc->reply_error(m, bus_error(r, "bad arguments"));
        if (auto s = read_no_options(m); !s)
            return svc->reply_error(m, s.error());
        auto who = svc->desk().sign_in(BusService::client_of(m), id ? id : "", pin ? pin : "");
        if (!who)
            return svc->reply_error(m, who.error());
        sd_bus_message* reply = nullptr;
        int r = sd_bus_message_new_method_return(m, &reply);
        MessagePtr owned(reply);
        if (r >= 0)
            r = append_value_map(reply, {{"officer_id", who->officer_id}, {"name", who->name}});
        if (r >= 0)
            r = sd_bus_send(nullptr, reply, nullptr);
        return r;
    });
}

int method_sign_out(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    return method_for(Role::officer, m, userdata, [&](BusService* svc) {
        if (auto s = read_no_options(m); !s)
            return svc->reply_error(m, s.error());
        svc->desk().sign_out(BusService::client_of(m), "signed out");
        return sd_bus_reply_method_return(m, "");
    });
}

int method_get_notice(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    return method_for(Role::officer, m, userdata, [&](BusService* svc) {
        auto options = read_value_map(m);
        if (!options)
            return svc->reply_error(m, options.error());
        if (auto s = only_keys(*options, {"version"}, "options"); !s)
            return svc->reply_error(m, s.error());
        auto version = get_string(*options, "version", false);
        if (!version)
            return svc->reply_error(m, version.error());
        auto notice =
            version->empty() ? svc->notices().current() : svc->notices().find(*version);
        if (!notice)
            return svc->reply_error(m, notice.error());
        sd_bus_message* reply = nullptr;
        int r = sd_bus_message_new_method_return(m, &reply);
        MessagePtr owned(reply);
        if (r >= 0)
            r = append_value_map(reply, {{"version", notice->version},
                                         {"text", notice->text},
                                         {"sha256", notice->sha256}});
        if (r >= 0)
            r = sd_bus_send(nullptr, reply, nullptr);
        return r;
    });
}

int method_send_now(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    return method_for(Role::officer, m, userdata, [&](BusService* svc) {
        auto id = read_session_argument(m);
        if (!id)
            return svc->reply_error(m, id.error());
        if (!svc->uploader())
            return svc->reply_error(
                m, Error{Errc::unsupported,
                         "uploads are not configured on this kiosk ([upload] endpoint)", 0});
        auto officer = svc->desk().officer_of(BusService::client_of(m));
        const auto actor = officer ? "officer:" + officer->officer_id : admin_actor(m);
        if (auto s = svc->uploader()->send_session_now(*id, actor); !s)
            return svc->reply_error(m, s.error());
        return sd_bus_reply_method_return(m, "");
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
    SD_BUS_METHOD_WITH_NAMES("SignIn", "ssa{sv}",
                             SD_BUS_PARAM(officer_id) SD_BUS_PARAM(pin) SD_BUS_PARAM(options),
                             "a{sv}", SD_BUS_PARAM(officer), method_sign_in,
                             SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
    SD_BUS_METHOD_WITH_NAMES("SignOut", "a{sv}", SD_BUS_PARAM(options), "", , method_sign_out,
                             SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("GetNotice", "a{sv}", SD_BUS_PARAM(options), "a{sv}",
                             SD_BUS_PARAM(notice), method_get_notice, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("SendNow", "oa{sv}", SD_BUS_PARAM(session) SD_BUS_PARAM(options), "",
                             , method_send_now, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END};

}  // namespace

Status export_manager(sd_bus* bus, BusService* service, std::vector<SlotPtr>& slots) {
    sd_bus_slot* slot = nullptr;
    int r = sd_bus_add_object_manager(bus, &slot, kRootPath);
    if (auto s = keep_slot(r, slot, slots, "the object manager"); !s)
        return s;
    r = sd_bus_add_object_vtable(bus, &slot, kRootPath, kManagerInterface, kManagerVtable,
                                 service);
    return keep_slot(r, slot, slots, "the manager");
}

}  // namespace exhibit::bus
