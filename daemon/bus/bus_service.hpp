// exhibitd's D-Bus edge: exports org.exhibit.Exhibit1 (interface/org.exhibit.Exhibit1.xml)
// on the daemon's sd-event loop, maps calls onto the core (device registry, session
// manager, store) and core changes onto signals. Callers are checked here by their
// credentials, so a loose bus policy cannot widen access; every error leaves as a named
// org.exhibit.Exhibit1.Error.* with a sentence.
//
// Thread-bound to the loop thread.
#pragma once

#include <systemd/sd-event.h>

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "daemon/bus/bus_message.hpp"
#include "daemon/devices/device_registry.hpp"
#include "daemon/extract/session_manager.hpp"
#include "daemon/store/store.hpp"

namespace exhibit::upload {
class Uploader;
}
namespace exhibit::officers {
class SignInDesk;
}
namespace exhibit::notices {
class NoticeLibrary;
}

namespace exhibit::bus {

inline constexpr const char* kBusName = "org.exhibit.Exhibit1";
inline constexpr const char* kRootPath = "/org/exhibit/Exhibit1";

struct BusServiceOptions {
    std::string bus = "system";  // "system", "session", or a D-Bus address
    std::string kiosk_id;
    std::string officer_group = "exhibit-kiosk";
    std::string admin_group = "exhibit-admin";
    std::uint64_t min_free_bytes = 0;  // shown as Health.MinFreeBytes (the rule: SessionManager)
};

// What a configuration reload did: "table.key" names of the changed keys applied at once
// and of those that keep their running value until a restart, and sentences for what could
// not be done (a phone still in use, an address that cannot be added).
struct ReloadReport {
    std::vector<std::string> applied;
    std::vector<std::string> restart_required;
    std::vector<std::string> problems;
};

struct BusHooks {
    // AddNetworkDevice: returns the new device's id.
    std::function<Result<std::string>(const std::string& address)> add_network_device;
    // ReloadConfig: what was applied and what waits for a restart ("table.key" names).
    std::function<Result<ReloadReport>(const std::string& actor)> reload_config;
};

// The core the edge translates for; every pointer outlives the BusService.
struct BusCore {
    store::Store* store = nullptr;
    devices::DeviceRegistry* devices = nullptr;
    extract::SessionManager* sessions = nullptr;
    officers::SignInDesk* desk = nullptr;
    notices::NoticeLibrary* notices = nullptr;
    upload::Uploader* uploader = nullptr;  // null when uploads are not configured
};

// Who may call a method, besides root: `officer` the officer group or the admin group; `admin`
// the admin group; `kiosk` the officer group only (StartExtraction: an extraction is started
// by an officer at the kiosk, with the person there, never by the admin group, which is who
// may steer a kiosk remotely over ssh; docs/monitoring.md).
enum class Role { officer, admin, kiosk };

// The D-Bus error name for an Error (the one mapping at this edge).
const char* error_name(const Error& error);

class BusService {
  public:
    static Result<std::unique_ptr<BusService>> start(sd_event* event, BusServiceOptions options,
                                                     BusCore core, BusHooks hooks);
    ~BusService();
    BusService(const BusService&) = delete;
    BusService& operator=(const BusService&) = delete;

    // Health changed (store reconciled, items added): emit PropertiesChanged on /health.
    void health_changed();
    // The upload queue changed: emit PropertiesChanged on /queue.
    void queue_changed();
    upload::Uploader* uploader() const { return core_.uploader; }

    // Handlers reached from the sd-bus trampolines (public for them; not an API).
    Status check_access(sd_bus_message* m, Role role) const;
    int reply_error(sd_bus_message* m, const Error& error) const;
    store::Store& store() { return *core_.store; }
    devices::DeviceRegistry& devices() { return *core_.devices; }
    extract::SessionManager& sessions() { return *core_.sessions; }
    officers::SignInDesk& desk() { return *core_.desk; }
    notices::NoticeLibrary& notices() { return *core_.notices; }
    // The unique bus name of a method call's sender: the client a sign-in belongs to.
    static std::string client_of(sd_bus_message* m);
    const BusServiceOptions& options() const { return options_; }
    const BusHooks& hooks() const { return hooks_; }
    sd_bus* bus() const { return bus_.get(); }
    // A session's highest reported progress (never decreases), 0..1.
    double progress_of(const extract::SessionView& s);

  private:
    BusService(BusServiceOptions options, BusCore core, BusHooks hooks);
    Status export_objects();
    // Signs out the clients that leave the bus (NameOwnerChanged from the bus driver).
    Status watch_clients();
    // Checks the callers of Properties and ObjectManager, which sd-bus answers itself.
    Status guard_reads();
    static int on_incoming(sd_bus_message* m, void* userdata, sd_bus_error* error) noexcept;
    static int on_name_owner_changed(sd_bus_message* m, void* userdata,
                                     sd_bus_error* error) noexcept;
    void on_device(const devices::DeviceRecord& record, devices::DeviceChange change);
    void on_session(const extract::SessionView& view);

    BusServiceOptions options_;
    BusCore core_;
    BusHooks hooks_;
    BusPtr bus_;
    std::vector<SlotPtr> slots_;
    std::set<std::int64_t> announced_sessions_;
    std::set<std::int64_t> completed_sessions_;
    std::map<std::int64_t, double> progress_;
    gid_t officer_gid_ = static_cast<gid_t>(-1);
    gid_t admin_gid_ = static_cast<gid_t>(-1);
};

std::string device_path(const std::string& id);
std::string session_path(std::int64_t id);

}  // namespace exhibit::bus
