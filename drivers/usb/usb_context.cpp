#include "drivers/usb/usb_context.hpp"

#include <sys/time.h>

#include <chrono>

#include "common/log.hpp"
#include "drivers/usb/message_ids.hpp"
#include "drivers/usb/usb_error.hpp"

namespace exhibit::usb {

Result<std::shared_ptr<UsbContext>> UsbContext::create() {
    libusb_context* raw = nullptr;
    if (int rc = libusb_init(&raw); rc != 0)
        return std::unexpected(usb_error(rc, "cannot start libusb"));
    std::shared_ptr<UsbContext> self(new UsbContext(ContextPtr(raw)));
    if (libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG)) {
        // The callback records the present devices right away (ENUMERATE), before any
        // listener exists; listeners get them replayed when they are added.
        int rc = libusb_hotplug_register_callback(
            raw, LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED | LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT,
            LIBUSB_HOTPLUG_ENUMERATE, LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY,
            LIBUSB_HOTPLUG_MATCH_ANY, &UsbContext::on_hotplug, self.get(), &self->hotplug_handle_);
        if (rc != 0)
            return std::unexpected(usb_error(rc, "cannot watch for USB devices"));
        self->hotplug_registered_ = true;
    }
    self->events_ = std::jthread([s = self.get()](std::stop_token stop) { s->run_events(stop); });
    return self;
}

UsbContext::~UsbContext() {
    if (hotplug_registered_)
        libusb_hotplug_deregister_callback(ctx_.get(), hotplug_handle_);
    if (events_.joinable()) {
        events_.request_stop();
        libusb_interrupt_event_handler(ctx_.get());
        events_.join();
    }
    std::lock_guard lock(mutex_);
    listeners_.clear();
    present_.clear();  // drops our references before libusb_exit
}

void UsbContext::run_events(const std::stop_token& stop) {
    auto last_warning = std::chrono::steady_clock::time_point{};
    while (!stop.stop_requested()) {
        // Long waits: libusb wakes this thread for every completion, hotplug message and
        // interrupt, so an idle kiosk costs nothing here.
        timeval tv{.tv_sec = 5, .tv_usec = 0};
        int rc = libusb_handle_events_timeout_completed(ctx_.get(), &tv, nullptr);
        if (rc == 0 || rc == LIBUSB_ERROR_INTERRUPTED)
            continue;
        auto now = std::chrono::steady_clock::now();
        if (now - last_warning > std::chrono::minutes(1)) {
            const auto e = usb_error(rc, "libusb");
            log::event(log::Level::warning, message_id::kEventHandlingFailed,
                       fmt::format("USB event handling failed: {}", e.describe()),
                       {log::field::error_class(e)});
            last_warning = now;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

int LIBUSB_CALL UsbContext::on_hotplug(libusb_context*, libusb_device* device,
                                       libusb_hotplug_event event, void* self) noexcept {
    try {
        static_cast<UsbContext*>(self)->hotplug(device,
                                                event == LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED);
    } catch (const std::exception& e) {
        log::event(log::Level::error, message_id::kHotplugEventLost,
                   fmt::format("USB hotplug notification lost: {}", e.what()),
                   {log::field::error_class(Errc::internal)});
    } catch (...) {
        log::event(log::Level::error, message_id::kHotplugEventLost,
                   "USB hotplug notification lost", {log::field::error_class(Errc::internal)});
    }
    return 0;  // stay registered
}

void UsbContext::hotplug(libusb_device* device, bool arrived) {
    std::lock_guard lock(mutex_);
    if (arrived) {
        if (!present_.try_emplace(device, ref_device(device)).second)
            return;  // already known (enumerated and then announced again)
    } else {
        auto it = present_.find(device);
        if (it == present_.end())
            return;
        present_.erase(it);  // listeners keep their own references
    }
    for (auto& [id, listener] : listeners_)
        listener(device, arrived);
}

Result<std::uint64_t> UsbContext::add_hotplug_listener(HotplugListener listener) {
    if (!hotplug_registered_)
        return fail(Errc::unsupported, "this libusb cannot report USB hotplug events");
    std::lock_guard lock(mutex_);
    for (auto& [device, ref] : present_)
        listener(device, true);
    auto id = next_listener_++;
    listeners_.emplace(id, std::move(listener));
    return id;
}

void UsbContext::remove_hotplug_listener(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    listeners_.erase(id);
}

}  // namespace exhibit::usb
