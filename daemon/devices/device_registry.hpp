// The phones the kiosk knows about right now, as objects the D-Bus layer exposes. Fed by the
// USB monitor (plug/unplug) and by configured or added network (ADB over TCP) devices; the
// session manager moves them through their states. A device that goes away and comes back
// is a new object with a new id.
//
// Thread-bound to the loop thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "drivers/driver.hpp"

namespace exhibit::devices {

enum class DeviceState {
    connected,            // seen, not yet talked to
    needs_authorisation,  // the person must allow this kiosk on the phone
    locked,               // the person must unlock the phone
    unsupported,          // no driver can extract it (the detail says why)
    ready,                // can be previewed and extracted
    busy,                 // an extraction or preview is running
    gone,                 // unplugged or unreachable
};

enum class DeviceClass { android_adb, android_mtp, apple, mass_storage, unsupported };

std::string_view to_string(DeviceState s);
std::string_view to_string(DeviceClass c);

struct DeviceIdentity {
    std::uint16_t vendor_id = 0;
    std::uint16_t product_id = 0;
    std::string manufacturer;
    std::string product;
    std::string serial;
    std::string bus_path;  // "1-1.4" for USB
    std::string speed;     // "high", "super", ...
};

struct DeviceRecord {
    std::string id;                    // "d1", "d2", ... (safe in a D-Bus object path)
    std::vector<DeviceClass> classes;  // a phone may expose several (ADB + MTP)
    DeviceIdentity identity;
    DeviceState state = DeviceState::connected;
    std::string transport;  // "tcp:HOST:PORT" or "usb:BUS_PATH"
    std::string detail;     // a sentence for people: why it needs attention
    // What drivers are matched on ("usb:adb", "tcp:adb", ...) and, for a USB device, how a
    // driver opens it (drivers/driver.hpp).
    std::vector<drivers::Function> functions;
    std::shared_ptr<const usb::UsbPort> usb_port;
};

// The classes of a device as one word for logs and the journal: "android_mtp,android_adb".
std::string classes_text(const DeviceRecord& r);

enum class DeviceChange { added, changed, removed };

class DeviceRegistry {
  public:
    using Observer = std::function<void(const DeviceRecord&, DeviceChange)>;

    // Adds a device (its id is assigned here) and returns the id.
    std::string add(DeviceRecord record);
    Status set_state(const std::string& id, DeviceState state, std::string detail = {});
    // Marks the device gone, tells observers, and forgets it.
    Status remove(const std::string& id);

    const DeviceRecord* find(const std::string& id) const;
    const DeviceRecord* find_by_transport(const std::string& transport) const;
    std::vector<const DeviceRecord*> all() const;

    // Observers run on the loop thread, in the order they subscribed, during add, set_state
    // and remove; they must not change the registry themselves (post to the loop instead).
    std::uint64_t subscribe(Observer observer);
    void unsubscribe(std::uint64_t subscription);

  private:
    void notify(const DeviceRecord& r, DeviceChange change);

    std::map<std::string, DeviceRecord> devices_;
    std::map<std::uint64_t, Observer> observers_;
    std::uint64_t next_subscription_ = 1;
    std::uint64_t next_id_ = 1;
};

}  // namespace exhibit::devices
