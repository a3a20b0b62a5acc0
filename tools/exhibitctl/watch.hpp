// Follows one object of exhibitd by its signals, never by polling: PropertiesChanged merged
// into its properties, the session's Completed signal, and exhibitd leaving the bus.
// Subscriptions are made before the call that creates or starts the work (StartExtraction,
// SyncNow), so nothing is missed; changes sent before the follow-up property read are
// recognised by their message serial and dropped as stale.
//
// Thread-bound to the BusClient's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tools/exhibitctl/bus_client.hpp"

namespace exhibit::ctl {

struct Completion {
    std::string state;
    std::string reason;
};

class Watch {
  public:
    // Watches objects of `iface` under `path_namespace` (the namespace's own path included).
    static Outcome<std::unique_ptr<Watch>> start(BusClient& bus, std::string path_namespace,
                                                 std::string iface);
    ~Watch() = default;
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;

    // Reads the properties of `path` now and from then on applies its changes.
    Done follow(const std::string& path);

    const ValueMap& properties() const { return properties_; }
    // Completed(state, reason) of the followed object, once it came.
    const std::optional<Completion>& completion() const { return completion_; }
    bool daemon_gone() const { return gone_; }
    // Called after every applied change of the followed object.
    void on_update(std::function<void()> callback) { on_update_ = std::move(callback); }

  private:
    Watch(BusClient& bus, std::string ns, std::string iface)
        : bus_(&bus), namespace_(std::move(ns)), iface_(std::move(iface)) {}
    Done subscribe();
    bool from_daemon(sd_bus_message* m) const;
    void properties_changed(sd_bus_message* m);
    void completed(sd_bus_message* m);
    void owner_changed(sd_bus_message* m);
    static int on_properties(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept;
    static int on_completed(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept;
    static int on_owner(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept;

    struct Change {
        std::uint64_t cookie = 0;
        ValueMap values;
    };

    BusClient* bus_;
    std::string namespace_;
    std::string iface_;
    std::string owner_;  // exhibitd's unique name: signals from anyone else are ignored
    std::string path_;   // the followed object, empty until follow()
    std::uint64_t base_cookie_ = 0;
    ValueMap properties_;
    std::map<std::string, std::vector<Change>> early_changes_;  // before follow()
    std::map<std::string, Completion> early_completions_;
    std::optional<Completion> completion_;
    bool gone_ = false;
    std::function<void()> on_update_;
    std::vector<SlotPtr> slots_;
};

}  // namespace exhibit::ctl
