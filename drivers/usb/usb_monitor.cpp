#include "drivers/usb/usb_monitor.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "drivers/usb/message_ids.hpp"
#include "drivers/usb/usb_error.hpp"

namespace exhibit::usb {

Result<std::unique_ptr<UsbMonitor>> UsbMonitor::start(std::shared_ptr<UsbContext> context,
                                                      Handler handler, UsbMonitorOptions options) {
    std::unique_ptr<UsbMonitor> m(new UsbMonitor(std::move(context), std::move(handler), options));
    m->thread_ = std::jthread([self = m.get()](std::stop_token stop) { self->run(stop); });
    auto listener = m->context_->add_hotplug_listener(
        [self = m.get()](libusb_device* d, bool arrived) { self->queue(d, arrived); });
    if (!listener)
        return std::unexpected(listener.error());  // the destructor stops the thread
    m->listener_ = *listener;
    return m;
}

UsbMonitor::~UsbMonitor() {
    if (listener_ != 0)
        context_->remove_hotplug_listener(listener_);
    if (thread_.joinable()) {
        thread_.request_stop();  // wakes the condition variable
        thread_.join();
    }
}

void UsbMonitor::queue(libusb_device* device, bool arrived) {
    {
        std::lock_guard lock(mutex_);
        queue_.push_back({ref_device(device), arrived});
    }
    wake_.notify_one();
}

void UsbMonitor::run(const std::stop_token& stop) {
    while (true) {
        Pending next;
        {
            std::unique_lock lock(mutex_);
            if (!wake_.wait(lock, stop, [&] { return !queue_.empty(); }))
                return;
            next = std::move(queue_.front());
            queue_.pop_front();
            if (next.arrived) {
                // Plugged and pulled again before we got to it: neither is worth reporting.
                auto left = std::ranges::find_if(queue_, [&](const Pending& p) {
                    return !p.arrived && p.device.get() == next.device.get();
                });
                if (left != queue_.end()) {
                    queue_.erase(left);
                    continue;
                }
            }
        }
        try {
            if (next.arrived)
                arrive(std::move(next.device));
            else
                leave(next.device.get());
        } catch (const std::exception& e) {
            log::event(log::Level::error, message_id::kHotplugEventLost,
                       fmt::format("USB monitor: event lost: {}", e.what()),
                       {log::field::error_class(Errc::internal)});
        }
    }
}

void UsbMonitor::arrive(DeviceRef device) {
    auto inspected = inspect_device(device.get(), options_.string_timeout);
    if (!inspected) {
        if (inspected.error().message != kDisconnected)
            log::event(log::Level::warning, message_id::kInspectFailed,
                       fmt::format("USB device at {} could not be inspected: {}",
                                   bus_path_of(device.get()), inspected.error().describe()),
                       {{"EXHIBIT_USB_BUS_PATH", bus_path_of(device.get())},
                        log::field::error_class(inspected.error())});
        return;  // gone already: its departure finds no plug and is not reported either
    }
    UsbArrival a{.identity = std::move(inspected->identity),
                 .descriptors = std::move(inspected->descriptors),
                 .note = std::move(inspected->note)};
    a.classification = classify(a.descriptors);
    a.port =
        std::make_shared<const UsbPort>(context_, ref_device(device.get()), a.identity.bus_path);
    {
        std::lock_guard lock(mutex_);
        a.plug_id = next_plug_++;
        plug_of_[device.get()] = a.plug_id;
        devices_[a.plug_id] = std::move(device);
    }
    handler_(std::move(a));
}

void UsbMonitor::leave(libusb_device* device) {
    UsbRemoval r;
    {
        std::lock_guard lock(mutex_);
        auto it = plug_of_.find(device);
        if (it == plug_of_.end())
            return;
        r.plug_id = it->second;
        plug_of_.erase(it);
        devices_.erase(r.plug_id);
    }
    r.bus_path = bus_path_of(device);
    handler_(std::move(r));
}

Result<DeviceRef> UsbMonitor::device(std::uint64_t plug_id) const {
    std::lock_guard lock(mutex_);
    auto it = devices_.find(plug_id);
    if (it == devices_.end())
        return std::unexpected(Error{Errc::io, std::string(kDisconnected), 0});
    return ref_device(it->second.get());
}

}  // namespace exhibit::usb
