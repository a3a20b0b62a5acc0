// The one owner of each sd-bus handle exhibit holds: connections, messages, slots (matches,
// vtables, the object manager), a sender's credentials, and the sd_bus_error a call fills;
// and the one way to open a connection. Shared by exhibitd's D-Bus edge, exhibitctl and the
// tests (library exhibit_bus_value).
#pragma once

#include <systemd/sd-bus.h>

#include <string>

#include "common/c_handle.hpp"
#include "common/error.hpp"

namespace exhibit {

// Flushes what is queued before closing, so that a last reply or signal still leaves.
using BusPtr = CHandle<sd_bus, sd_bus_flush_close_unref>;
using MessagePtr = CHandle<sd_bus_message, sd_bus_message_unref>;
using SlotPtr = CHandle<sd_bus_slot, sd_bus_slot_unref>;
using CredsPtr = CHandle<sd_bus_creds, sd_bus_creds_unref>;

// Connects to "system" (honours DBUS_SYSTEM_BUS_ADDRESS), "session", or a D-Bus address such
// as "unix:path=/run/exhibit-test/bus" (as a client that says Hello). Errors are Errc::io with
// the errno: "cannot connect to the <spec> bus: <strerror>".
Result<BusPtr> open_bus(const std::string& spec);

// The one owner of an sd_bus_error (a struct the caller provides, not a handle): pass get()
// to sd_bus_call() and friends; freed when it goes.
class BusError {
  public:
    BusError() = default;
    ~BusError() { sd_bus_error_free(&error_); }
    BusError(const BusError&) = delete;
    BusError& operator=(const BusError&) = delete;

    sd_bus_error* get() { return &error_; }
    bool is_set() const { return sd_bus_error_is_set(&error_) != 0; }
    // The error's name and message, "" when not set.
    const char* name() const { return error_.name ? error_.name : ""; }
    const char* message() const { return error_.message ? error_.message : ""; }

  private:
    sd_bus_error error_ = SD_BUS_ERROR_NULL;
};

}  // namespace exhibit
