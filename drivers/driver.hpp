// The interface every device family implements (fwupd's plugin per family, libcamera's
// pipeline handlers behind one interface). A Driver says which functions it serves and opens
// a device; the DriverSession it returns reads the device's identity, previews a scope and
// extracts it into an ArtefactSink. exhibitd finds the driver for a device in a
// DriverRegistry (driver_registry.hpp) by what the device offers.
//
// How a driver reaches its device does not depend on the daemon: a Device carries what was
// classified, who the device says it is, and a way in (a drivers/usb port for USB devices,
// an address such as "tcp:HOST:PORT" for network ones). Drivers include this header,
// artefact.hpp and their own protocol code; nothing of the daemon.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "drivers/artefact.hpp"

namespace exhibit::usb {
class UsbPort;  // drivers/usb/usb_port.hpp: only USB drivers include it
}

namespace exhibit::drivers {

// What a device offers that a driver can serve: a function the USB layer classified
// ("usb:adb", "usb:mtp", ...: usb::driver_function) or a way in over the network ("tcp:adb").
// A name rather than an enum, so that a family (or a test's fake family) brings its own
// without touching this file.
struct Function {
    std::string name;

    friend bool operator==(const Function&, const Function&) = default;
    friend auto operator<=>(const Function&, const Function&) = default;
};

// A device as a driver sees it. Plain values plus the way in; copied freely.
struct Device {
    std::string id;                   // the kiosk's name for it ("d1"), for logs and messages
    std::vector<Function> functions;  // what it offers, in the order found
    std::string address;              // "usb:1-1.4", "tcp:HOST:PORT", ...
    std::uint16_t vendor_id = 0;
    std::uint16_t product_id = 0;
    std::string manufacturer;
    std::string product;
    std::string serial;
    std::shared_ptr<const usb::UsbPort> usb;  // USB devices: how to open it; null otherwise

    bool offers(const Function& f) const;
};

// The message of the Errc::io error a driver fails with when its device went away (unplugged,
// switched off), whichever layer noticed first: exhibitd ends a session "interrupted: device
// disconnected" on it, as on the unplug itself.
inline constexpr std::string_view kDeviceDisconnected = "device disconnected";

// What a driver says about a device that cannot be used yet; the same words for every
// family, each with a sentence for the person at the kiosk. exhibitd shows them as the
// device's state (devices::DeviceState has the same names).
enum class DeviceCondition {
    needs_authorisation,  // the person must allow this kiosk on the device
    locked,               // the person must unlock the device
    unsupported,          // this driver cannot serve the device (say why)
};

std::string_view to_string(DeviceCondition c);

// What open() is given besides the device.
struct OpenContext {
    // Requested when the device is unplugged, the officer cancels or exhibitd stops: open()
    // unblocks promptly (a std::stop_callback is the usual way) and fails, Errc::cancelled.
    std::stop_token stop;
    // Called on the opening thread each time the device waits for its owner (or turns out
    // unusable); may be empty. Whoever passes it makes it safe to call from that thread.
    std::function<void(DeviceCondition, std::string detail)> report;
};

// One open link to a device. Used by one thread at a time (a session worker; the link may
// pass from one worker to the next), except interrupt(), which any thread may call.
class DriverSession {
  public:
    virtual ~DriverSession() = default;

    // Who the device says it is, and its clock against the kiosk's.
    virtual Result<DeviceInfo> device_info() = 0;
    // Counts and bytes per category of what extract(scope) would take; takes nothing.
    virtual Result<Preview> preview(const Scope& scope) = 0;
    // Pushes every artefact in scope into `sink`. Per-artefact problems go to
    // sink.skipped() or become incomplete artefacts; a lost link ends it with its error
    // (Errc::protocol, io or timeout), a stop with Errc::cancelled.
    virtual Status extract(const Scope& scope, ArtefactSink& sink) = 0;
    // Thread-safe, from any thread: unblocks whatever I/O is in progress and every later
    // call (they fail). Used for unplug, cancel and shutdown.
    virtual void interrupt() = 0;
    // Whether the link still works after the last call (not interrupted, not broken by the
    // device): exhibitd then keeps it for the next preview or extraction.
    virtual bool reusable() const = 0;
};

// One device family. Registered once at startup and then only read: thread-safe (open()
// runs on several session workers at once).
class Driver {
  public:
    virtual ~Driver() = default;

    virtual std::string_view name() const = 0;     // the family's folder name: "adb"
    virtual std::string_view version() const = 0;  // for logs and session records
    // The functions this driver can open a device by; a device offering one of them is
    // this driver's (the registry refuses a function served twice).
    virtual std::span<const Function> serves() const = 0;
    // The categories this family can take from a device; all of them unless it says less.
    virtual std::span<const Category> categories() const { return kAllCategories; }
    // When categories() is not all of them: one sentence for people saying why the others
    // are not offered (the kiosk and exhibitctl show it); empty otherwise.
    virtual std::string_view categories_note() const { return {}; }
    // Reaches the device and readies it for previews and extractions: blocking, on a
    // session worker. Reports conditions through `context` while it waits. Fails with
    // Errc::unsupported (the message says why, for people) when the device cannot be served,
    // Errc::cancelled when stopped, and any other error when the device could not be reached.
    virtual Result<std::unique_ptr<DriverSession>> open(const Device& device,
                                                        const OpenContext& context) const = 0;
};

}  // namespace exhibit::drivers
