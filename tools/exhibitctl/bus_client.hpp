// exhibitctl's connection to exhibitd: one sd-bus connection (system, session, an address, or
// another machine's system bus through ssh: remote.hpp),
// method calls whose errors become Failures through failure_from_bus_error(), a{sv} replies
// read with the shared codec (common/bus_value.hpp; arguments are written with its
// append_value_map()), and a loop that processes signals until a condition holds. Only the
// public D-Bus API is used (interface/org.exhibit.Exhibit1.xml).
//
// Thread-bound: one thread uses a client.
#pragma once

#include <systemd/sd-bus.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "common/bus_handles.hpp"
#include "common/bus_value.hpp"
#include "tools/exhibitctl/failure.hpp"
#include "tools/exhibitctl/remote.hpp"
#include "tools/exhibitctl/values.hpp"

namespace exhibit::ctl {

// Appends the method's arguments; returns a negative errno on failure.
using Append = std::function<int(sd_bus_message*)>;

// The a{sv} of a reply or signal at the read position (read_value_map, Reading::replies: values
// of types exhibit does not use are skipped), its errors as Failures.
Outcome<ValueMap> read_dict(sd_bus_message* m);

// path -> interface -> properties, as ObjectManager.GetManagedObjects answers.
using ManagedObjects = std::map<std::string, std::map<std::string, ValueMap>>;

// Ctrl-C while waiting: the wait ends with Exit::interrupted; the daemon's work goes on.
void install_interrupt_handler();

class BusClient {
  public:
    // "system" (default; honours DBUS_SYSTEM_BUS_ADDRESS), "session", or a D-Bus address
    // such as "unix:path=/run/exhibit-test/bus". With a `host` ([USER@]HOST[:PORT], see
    // remote.hpp) the system bus of that machine, through ssh; `spec` is then not used.
    static Outcome<BusClient> connect(const std::string& spec, const std::string& host = {});

    sd_bus* get() const { return bus_.get(); }

    // Calls `member` on exhibitd; `what` names it in error messages.
    Outcome<MessagePtr> call(const std::string& path, const char* iface, const char* member,
                             const Append& append, std::chrono::seconds timeout = kCallTimeout);
    Outcome<ValueMap> get_all(const std::string& path, const char* iface,
                              std::uint64_t* reply_cookie = nullptr);
    Outcome<ManagedObjects> managed_objects();
    // The unique name that owns org.exhibit.Exhibit1 now.
    Outcome<std::string> daemon_owner();

    // Processes incoming messages (dispatching matches) until `done()` holds. Ends with
    // timed_out after `timeout` (when given), interrupted on Ctrl-C, unreachable if the
    // connection breaks.
    Done run_until(const std::function<bool()>& done, std::optional<std::chrono::seconds> timeout);

    static constexpr std::chrono::seconds kCallTimeout{30};

  private:
    explicit BusClient(BusPtr bus) : bus_(std::move(bus)) {}
    BusClient(std::optional<SshTunnel> tunnel, BusPtr bus)
        : tunnel_(std::move(tunnel)), bus_(std::move(bus)) {}
    static Outcome<BusClient> connect_remote(const std::string& host);

    // Declared first, so that it ends after the bus is closed (ssh then sees its input end).
    std::optional<SshTunnel> tunnel_;
    BusPtr bus_;
};

}  // namespace exhibit::ctl
