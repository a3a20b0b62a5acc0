// The read commands: status, devices, preview, sessions, session, receipt, queue, audit verify.
#include <iostream>

#include <fmt/format.h>

#include "tools/exhibitctl/bus_client.hpp"
#include "tools/exhibitctl/commands.hpp"
#include "tools/exhibitctl/views.hpp"

namespace exhibit::ctl {

namespace {

// Every object of `iface` from the object manager.
Objects objects_of(const ManagedObjects& all, const char* iface) {
    Objects out;
    for (const auto& [path, ifaces] : all)
        if (auto it = ifaces.find(iface); it != ifaces.end())
            out.emplace_back(path, it->second);
    return out;
}

std::optional<ValueMap> object_at(const ManagedObjects& all, const std::string& path,
                                  const char* iface) {
    auto obj = all.find(path);
    if (obj == all.end())
        return std::nullopt;
    auto it = obj->second.find(iface);
    return it == obj->second.end() ? std::nullopt : std::optional(it->second);
}

Outcome<std::vector<PreviewRow>> read_preview(sd_bus_message* m) {
    std::vector<PreviewRow> rows;
    auto bad = [](int r) {
        return failure(Exit::failed,
                       fmt::format("Preview: unreadable reply ({})", std::strerror(-r)));
    };
    int r = sd_bus_message_enter_container(m, 'a', "{s(tt)}");
    if (r < 0)
        return bad(r);
    const char* category = nullptr;
    std::uint64_t count = 0, bytes = 0;
    while ((r = sd_bus_message_read(m, "{s(tt)}", &category, &count, &bytes)) > 0)
        rows.push_back({category ? category : "", count, bytes});
    if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0)
        return bad(r);
    return rows;
}

void print(const std::string& text) {
    std::cout << text << std::flush;
}

}  // namespace

Done cmd_status(const Globals& g) {
    auto bus = BusClient::connect(g.bus, g.host);
    if (!bus)
        return std::unexpected(bus.error());
    auto all = bus->managed_objects();
    if (!all)
        return std::unexpected(all.error());
    auto health = object_at(*all, kHealthPath, kHealthIface);
    if (!health) {
        auto direct = bus->get_all(kHealthPath, kHealthIface);
        if (!direct)
            return std::unexpected(direct.error());
        health = std::move(*direct);
    }
    const auto queue = object_at(*all, kQueuePath, kQueueIface);
    print(g.json ? dump_json(status_json(*health, queue)) : render_status(*health, queue));
    return {};
}

Done cmd_devices(const Globals& g) {
    auto bus = BusClient::connect(g.bus, g.host);
    if (!bus)
        return std::unexpected(bus.error());
    auto all = bus->managed_objects();
    if (!all)
        return std::unexpected(all.error());
    auto devices = objects_of(*all, kDeviceIface);
    sort_devices(devices);
    print(g.json ? dump_json(devices_json(devices)) : render_devices(devices));
    return {};
}

Done cmd_preview(const Globals& g, const std::string& device, const ScopeArgs& scope_args) {
    auto path = device_path(device);
    if (!path)
        return std::unexpected(path.error());
    auto scope = build_scope(scope_args);
    if (!scope)
        return std::unexpected(scope.error());
    auto bus = BusClient::connect(g.bus, g.host);
    if (!bus)
        return std::unexpected(bus.error());
    // A preview lists the phone: give a large phone time.
    auto reply = bus->call(
        kRootPath, kManagerIface, "Preview",
        [&](sd_bus_message* m) {
            int r = sd_bus_message_append(m, "o", path->c_str());
            if (r >= 0)
                r = append_value_map(m, *scope);
            return r < 0 ? r : append_value_map(m, {});
        },
        std::chrono::minutes(10));
    if (!reply)
        return std::unexpected(reply.error());
    auto rows = read_preview(reply->get());
    if (!rows)
        return std::unexpected(rows.error());
    print(g.json ? dump_json(preview_json(*path, *rows)) : render_preview(*rows));
    return {};
}

Done cmd_sessions(const Globals& g) {
    auto bus = BusClient::connect(g.bus, g.host);
    if (!bus)
        return std::unexpected(bus.error());
    auto all = bus->managed_objects();
    if (!all)
        return std::unexpected(all.error());
    auto sessions = objects_of(*all, kSessionIface);
    sort_sessions(sessions);
    print(g.json ? dump_json(sessions_json(sessions)) : render_sessions(sessions));
    return {};
}

Done cmd_session(const Globals& g, const std::string& session) {
    auto path = session_path(session);
    if (!path)
        return std::unexpected(path.error());
    auto bus = BusClient::connect(g.bus, g.host);
    if (!bus)
        return std::unexpected(bus.error());
    auto all = bus->managed_objects();
    if (!all)
        return std::unexpected(all.error());
    auto props = object_at(*all, *path, kSessionIface);
    if (!props)
        return failure(Exit::invalid,
                       fmt::format("not found: exhibitd has no session {} now (it shows the "
                                   "sessions since it started; `exhibitctl receipt {}` reads "
                                   "any session)",
                                   id_of_path(*path), id_of_path(*path)));
    print(g.json ? dump_json(session_json(*path, *props)) : render_session(*path, *props));
    return {};
}

Done cmd_receipt(const Globals& g, const std::string& session) {
    auto path = session_path(session);
    if (!path)
        return std::unexpected(path.error());
    auto bus = BusClient::connect(g.bus, g.host);
    if (!bus)
        return std::unexpected(bus.error());
    auto reply = bus->call(kRootPath, kManagerIface, "GetReceipt", [&](sd_bus_message* m) {
        int r = sd_bus_message_append(m, "o", path->c_str());
        return r < 0 ? r : append_value_map(m, {});
    });
    if (!reply)
        return std::unexpected(reply.error());
    auto receipt = read_dict(reply->get());
    if (!receipt)
        return std::unexpected(receipt.error());
    print(g.json ? dump_json(receipt_json(*path, *receipt)) : render_receipt(*path, *receipt));
    return {};
}

Done cmd_queue(const Globals& g) {
    auto bus = BusClient::connect(g.bus, g.host);
    if (!bus)
        return std::unexpected(bus.error());
    auto all = bus->managed_objects();
    if (!all)
        return std::unexpected(all.error());
    auto queue = object_at(*all, kQueuePath, kQueueIface);
    if (!queue)
        return failure(Exit::failed,
                       "this exhibitd has no upload queue (no object at "
                       "/org/exhibit/Exhibit1/queue): is uploading configured?");
    print(g.json ? dump_json(queue_json(*queue)) : render_queue(*queue));
    return {};
}

Done cmd_audit_verify(const Globals& g) {
    auto bus = BusClient::connect(g.bus, g.host);
    if (!bus)
        return std::unexpected(bus.error());
    // Recomputing a long chain takes a while.
    auto reply = bus->call(
        kRootPath, kManagerIface, "VerifyAudit",
        [](sd_bus_message* m) { return append_value_map(m, {}); }, std::chrono::minutes(10));
    if (!reply)
        return std::unexpected(reply.error());
    int ok = 0;
    AuditReport report;
    const char* problem = nullptr;
    if (int r = sd_bus_message_read(reply->get(), "btts", &ok, &report.entries,
                                    &report.first_broken, &problem);
        r < 0)
        return failure(Exit::failed, "VerifyAudit: unreadable reply");
    report.ok = ok != 0;
    report.problem = problem ? problem : "";
    print(g.json ? dump_json(audit_json(report)) : render_audit(report));
    if (!report.ok)
        return failure(Exit::audit_broken,
                       fmt::format("the audit chain does not verify (first broken entry {})",
                                   report.first_broken));
    return {};
}

}  // namespace exhibit::ctl
