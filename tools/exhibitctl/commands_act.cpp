// The commands that act: extract (and follow it with --wait), sync, cancel, priority and
// device add.
#include <cstdlib>
#include <iostream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "tools/exhibitctl/bus_client.hpp"
#include "tools/exhibitctl/commands.hpp"
#include "tools/exhibitctl/format.hpp"
#include "tools/exhibitctl/progress.hpp"
#include "tools/exhibitctl/values.hpp"
#include "tools/exhibitctl/views.hpp"
#include "tools/exhibitctl/watch.hpp"

namespace exhibit::ctl {

namespace {

enum class Followed { session, queue };

// Shows each update of a followed object: a bar redrawn in place on a terminal, a line per
// change otherwise, a JSON line per change with --json.
class ProgressPrinter {
  public:
    ProgressPrinter(const Globals& g, Followed what) : g_(g), what_(what) {}

    void update(const std::string& path, const ValueMap& props) {
        std::string text;
        if (g_.json) {
            text = what_ == Followed::session
                       ? dump_json_line(
                             {{"event", "progress"}, {"session", session_json(path, props)}})
                       : dump_json_line({{"event", "queue"}, {"queue", queue_json(props)}});
        } else if (g_.tty) {
            const auto width = g_.columns > 1 ? g_.columns - 1 : 1;
            text = what_ == Followed::session ? progress_bar(props, width)
                                              : keep_tail(queue_line(props), width);
        } else {
            text = (what_ == Followed::session ? progress_line(props) : queue_line(props)) + "\n";
        }
        if (text == last_)
            return;
        last_ = text;
        if (g_.tty && !g_.json) {
            std::cout << '\r' << text << "\x1b[K" << std::flush;
            drawn_ = true;
        } else {
            std::cout << text << std::flush;
        }
    }

    // Ends the live line so that what follows starts on a fresh one.
    void finish() {
        if (drawn_)
            std::cout << '\n' << std::flush;
        drawn_ = false;
    }

  private:
    const Globals& g_;
    Followed what_;
    std::string last_;
    bool drawn_ = false;
};

Done follow_session(const Globals& g, BusClient& bus, Watch& watch, const std::string& path) {
    ProgressPrinter printer(g, Followed::session);
    watch.on_update([&] { printer.update(path, watch.properties()); });
    if (auto s = watch.follow(path); !s)
        return s;
    auto waited =
        bus.run_until([&] { return watch.completion() || watch.daemon_gone(); }, g.wait_timeout);
    printer.finish();
    if (!waited)
        return waited;
    if (!watch.completion())
        return failure(Exit::unreachable,
                       "exhibitd left the bus before the session completed; it resumes or "
                       "marks the session interrupted when it starts again");
    const auto& done = *watch.completion();
    const auto& p = watch.properties();
    const auto id = id_of_path(path);
    if (g.json)
        std::cout << dump_json_line({{"event", "completed"},
                                     {"session", path},
                                     {"state", done.state},
                                     {"reason", done.reason}});
    else
        std::cout << fmt::format("session {} {}: {} items, {}{}\n", id, printable(done.state),
                                 u64_of(p, "ItemsDone"), format_bytes(u64_of(p, "BytesDone")),
                                 done.reason.empty() ? "" : " (" + printable(done.reason) + ")");
    if (done.state != "completed")
        return failure(Exit::not_completed,
                       fmt::format("session {} ended {}{}", id, printable(done.state),
                                   done.reason.empty() ? "" : ": " + printable(done.reason)));
    return {};
}

bool queue_drained(const ValueMap& q) {
    return !bool_of(q, "SyncRequested") && u64_of(q, "ItemsQueued") == 0 &&
           u64_of(q, "ItemsUploading") == 0;
}

Done follow_queue(const Globals& g, BusClient& bus, Watch& watch) {
    ProgressPrinter printer(g, Followed::queue);
    watch.on_update([&] { printer.update(kQueuePath, watch.properties()); });
    if (auto s = watch.follow(kQueuePath); !s)
        return s;
    auto waited = bus.run_until(
        [&] { return queue_drained(watch.properties()) || watch.daemon_gone(); }, g.wait_timeout);
    printer.finish();
    if (!waited)
        return waited;
    if (!queue_drained(watch.properties()))
        return failure(Exit::unreachable, "exhibitd left the bus before the sync finished");
    const auto& q = watch.properties();
    if (!g.json)
        std::cout << fmt::format("sync finished: {} received, {} failed, nothing pending\n",
                                 u64_of(q, "ItemsReceived"), u64_of(q, "ItemsFailed"));
    if (auto failed = u64_of(q, "ItemsFailed"))
        return failure(
            Exit::failed,
            fmt::format("{} upload(s) failed; `exhibitctl queue` shows the error", failed));
    return {};
}

// A method on exhibitd that answers nothing but success; prints `done` (or {"ok": true, ...}).
Done simple_call(const Globals& g, const std::string& path, const char* iface, const char* member,
                 const Append& append, const std::string& done, nlohmann::json result) {
    auto bus = BusClient::connect(g.bus, g.host);
    if (!bus)
        return std::unexpected(bus.error());
    auto reply = bus->call(path, iface, member, append);
    if (!reply)
        return std::unexpected(reply.error());
    result["ok"] = true;
    std::cout << (g.json ? dump_json(result) : done + "\n") << std::flush;
    return {};
}

// A Queue method taking (t id, a{sv} options) and answering nothing, such as RetryUpload.
Done queue_id_call(const Globals& g, const char* member, std::uint64_t id, const std::string& done,
                   nlohmann::json result) {
    return simple_call(
        g, kQueuePath, kQueueIface, member,
        [&](sd_bus_message* m) {
            int r = sd_bus_message_append(m, "t", id);
            return r < 0 ? r : append_value_map(m, {});
        },
        done, std::move(result));
}

}  // namespace

Done cmd_extract(const Globals& g, const ExtractArgs& args) {
    auto device = device_path(args.device);
    if (!device)
        return std::unexpected(device.error());
    auto kase = build_case(args.kase);
    if (!kase)
        return std::unexpected(kase.error());
    auto scope = build_scope(args.scope);
    if (!scope)
        return std::unexpected(scope.error());
    const auto options = build_extract_options(args.urgent);
    auto bus = BusClient::connect(g.bus, g.host);
    if (!bus)
        return std::unexpected(bus.error());
    std::unique_ptr<Watch> watch;
    if (args.wait) {  // subscribe first: a short session may end before the reply arrives
        auto w = Watch::start(*bus, kSessionsPath, kSessionIface);
        if (!w)
            return std::unexpected(w.error());
        watch = std::move(*w);
    }
    auto reply = bus->call(kRootPath, kManagerIface, "StartExtraction", [&](sd_bus_message* m) {
        int r = sd_bus_message_append(m, "o", device->c_str());
        if (r >= 0)
            r = append_value_map(m, *kase);
        if (r >= 0)
            r = append_value_map(m, *scope);
        return r < 0 ? r : append_value_map(m, options);
    });
    if (!reply)
        return std::unexpected(reply.error());
    const char* session = nullptr;
    if (sd_bus_message_read_basic(reply->get(), 'o', &session) < 0 || !session)
        return failure(Exit::failed, "StartExtraction: unreadable reply");
    const std::string path = session;
    const auto id = id_of_path(path);
    const auto number = std::strtoull(id.c_str(), nullptr, 10);
    if (g.json)
        std::cout << (args.wait ? dump_json_line(
                                      {{"event", "started"}, {"session", path}, {"id", number}})
                                : dump_json({{"session", path}, {"id", number}}));
    else
        std::cout << fmt::format("started session {} ({})\n", id, path);
    std::cout << std::flush;
    if (!args.wait)
        return {};
    install_interrupt_handler();
    return follow_session(g, *bus, *watch, path);
}

Done cmd_sync(const Globals& g, bool wait) {
    auto bus = BusClient::connect(g.bus, g.host);
    if (!bus)
        return std::unexpected(bus.error());
    std::unique_ptr<Watch> watch;
    if (wait) {
        auto w = Watch::start(*bus, kQueuePath, kQueueIface);
        if (!w)
            return std::unexpected(w.error());
        watch = std::move(*w);
    }
    auto reply = bus->call(kQueuePath, kQueueIface, "SyncNow",
                           [](sd_bus_message* m) { return append_value_map(m, {}); });
    if (!reply)
        return std::unexpected(reply.error());
    if (!wait) {
        std::cout << (g.json ? dump_json({{"ok", true}, {"sync_requested", true}})
                             : std::string("sync requested: the normal lane uploads now\n"))
                  << std::flush;
        return {};
    }
    install_interrupt_handler();
    return follow_queue(g, *bus, *watch);
}

Done cmd_cancel_session(const Globals& g, const std::string& session) {
    auto path = session_path(session);
    if (!path)
        return std::unexpected(path.error());
    return simple_call(
        g, *path, kSessionIface, "Cancel",
        [](sd_bus_message* m) { return append_value_map(m, {}); },
        fmt::format("cancelled session {}; items already complete stay", id_of_path(*path)),
        {{"session", *path}, {"cancelled", true}});
}

Done cmd_cancel_upload(const Globals& g, const std::string& item) {
    auto id = item_id(item);
    if (!id)
        return std::unexpected(id.error());
    return queue_id_call(
        g, "CancelUpload", *id,
        fmt::format("cancelled the upload of item {}; the evidence stays in the store", *id),
        {{"item", *id}, {"cancelled", true}});
}

Done cmd_retry_upload(const Globals& g, const std::string& item) {
    auto id = item_id(item);
    if (!id)
        return std::unexpected(id.error());
    return queue_id_call(g, "RetryUpload", *id, fmt::format("item {} is queued again", *id),
                         {{"item", *id}, {"retried", true}});
}

Done cmd_retry_manifest(const Globals& g, const std::string& session) {
    auto id = session_id(session);
    if (!id)
        return std::unexpected(id.error());
    return queue_id_call(g, "RetryManifest", *id,
                         fmt::format("the manifest of session {} is queued again", *id),
                         {{"session", *id}, {"retried", true}});
}

Done cmd_retry_failed(const Globals& g) {
    auto bus = BusClient::connect(g.bus, g.host);
    if (!bus)
        return std::unexpected(bus.error());
    auto reply = bus->call(kQueuePath, kQueueIface, "RetryFailed",
                           [](sd_bus_message* m) { return append_value_map(m, {}); });
    if (!reply)
        return std::unexpected(reply.error());
    std::uint64_t n = 0;
    if (sd_bus_message_read(reply->get(), "t", &n) < 0)
        return failure(Exit::failed, "RetryFailed: unreadable reply");
    std::cout << (g.json ? dump_json({{"ok", true}, {"retried", n}})
                         : fmt::format("{} failed upload{} queued again\n", n, n == 1 ? "" : "s"))
              << std::flush;
    return {};
}

Done cmd_priority(const Globals& g, const std::string& item, const std::string& lane) {
    auto id = item_id(item);
    if (!id)
        return std::unexpected(id.error());
    auto name = lane_name(lane);
    if (!name)
        return std::unexpected(name.error());
    return simple_call(g, kQueuePath, kQueueIface, "SetPriority",
                       [&](sd_bus_message* m) {
                           int r = sd_bus_message_append(m, "ts", *id, name->c_str());
                           return r < 0 ? r : append_value_map(m, {});
                       },
                       fmt::format("item {} moved to the {} lane", *id, *name),
                       {{"item", *id}, {"lane", *name}});
}

Done cmd_device_add(const Globals& g, const std::string& address) {
    auto host_port = network_address(address);
    if (!host_port)
        return std::unexpected(host_port.error());
    auto bus = BusClient::connect(g.bus, g.host);
    if (!bus)
        return std::unexpected(bus.error());
    auto reply = bus->call(kRootPath, kManagerIface, "AddNetworkDevice", [&](sd_bus_message* m) {
        int r = sd_bus_message_append(m, "s", host_port->c_str());
        return r < 0 ? r : append_value_map(m, {});
    });
    if (!reply)
        return std::unexpected(reply.error());
    const char* device = nullptr;
    if (sd_bus_message_read_basic(reply->get(), 'o', &device) < 0 || !device)
        return failure(Exit::failed, "AddNetworkDevice: unreadable reply");
    const auto id = id_of_path(device);
    std::cout << (g.json
                      ? dump_json(
                            {{"ok", true}, {"device", device}, {"id", id}, {"address", *host_port}})
                      : fmt::format("added device {} ({}) at {}\n", id, device, *host_port))
              << std::flush;
    return {};
}

Done cmd_reload(const Globals& g) {
    auto bus = BusClient::connect(g.bus, g.host);
    if (!bus)
        return std::unexpected(bus.error());
    auto reply = bus->call(kRootPath, kManagerIface, "ReloadConfig",
                           [](sd_bus_message* m) { return append_value_map(m, {}); });
    if (!reply)
        return std::unexpected(reply.error());
    auto report = read_dict(reply->get());
    if (!report)
        return std::unexpected(report.error());
    const auto applied = strings_of(*report, "applied");
    const auto restart = strings_of(*report, "restart_required");
    const auto problems = strings_of(*report, "problems");
    if (g.json) {
        std::cout << dump_json({{"ok", true},
                                {"applied", applied},
                                {"restart_required", restart},
                                {"problems", problems}})
                  << std::flush;
        return {};
    }
    auto list = [](const std::vector<std::string>& names) {
        return names.empty() ? std::string("-")
                             : printable(fmt::format("{}", fmt::join(names, ", ")));
    };
    if (applied.empty() && restart.empty() && problems.empty()) {
        std::cout << "configuration reloaded: nothing changed\n" << std::flush;
        return {};
    }
    Pairs pairs = {{"applied", list(applied)}, {"needs a restart", list(restart)}};
    for (const auto& p : problems)
        pairs.emplace_back("not done", printable(p));
    std::cout << "configuration reloaded\n" << render_pairs(pairs) << std::flush;
    return {};
}

}  // namespace exhibit::ctl
