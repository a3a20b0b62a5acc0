// A private libusb context and the one thread that handles its events: transfer callbacks
// and hotplug notifications run there (or inside a libusb synchronous call on another
// thread, which handles events while it waits).
//
// Hotplug: the context registers one libusb callback (with LIBUSB_HOTPLUG_ENUMERATE) and
// fans it out to listeners. A listener is first told about every device present when it is
// added, then about each arrival and departure, each exactly once — so devices plugged in
// before exhibitd started are found too.
//
// Thread-safe. Handles and transfers made on the context keep it alive through the
// shared_ptr; it is destroyed after the last of them.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "common/error.hpp"
#include "drivers/usb/usb_handles.hpp"

namespace exhibit::usb {

class UsbContext {
  public:
    // Called with the device and true (arrived) or false (left). Runs with the context's
    // hotplug lock held: it must only queue work and never call back into the context.
    using HotplugListener = std::function<void(libusb_device*, bool arrived)>;

    static Result<std::shared_ptr<UsbContext>> create();

    UsbContext(const UsbContext&) = delete;
    UsbContext& operator=(const UsbContext&) = delete;
    ~UsbContext();

    libusb_context* get() const { return ctx_.get(); }

    // Errc::unsupported when this libusb has no hotplug support.
    Result<std::uint64_t> add_hotplug_listener(HotplugListener listener);
    // When this returns the listener is not running and will not run again.
    void remove_hotplug_listener(std::uint64_t id);

  private:
    explicit UsbContext(ContextPtr ctx) : ctx_(std::move(ctx)) {}
    static int LIBUSB_CALL on_hotplug(libusb_context* ctx, libusb_device* device,
                                      libusb_hotplug_event event, void* self) noexcept;
    void hotplug(libusb_device* device, bool arrived);
    void run_events(const std::stop_token& stop);

    ContextPtr ctx_;
    std::mutex mutex_;  // guards present_, listeners_, next_listener_
    std::map<libusb_device*, DeviceRef> present_;
    std::map<std::uint64_t, HotplugListener> listeners_;
    std::uint64_t next_listener_ = 1;
    bool hotplug_registered_ = false;
    libusb_hotplug_callback_handle hotplug_handle_ = 0;
    std::jthread events_;  // last: stopped and joined first
};

}  // namespace exhibit::usb
