#include "daemon/devices/usb_devices.hpp"

#include <fmt/format.h>

#include "common/log.hpp"
#include "drivers/usb/usb_error.hpp"

namespace exhibit::devices {

namespace {

devices::DeviceClass device_class(usb::UsbFunction f) {
    switch (f) {
        case usb::UsbFunction::adb:
            return devices::DeviceClass::android_adb;
        case usb::UsbFunction::mtp:
            return devices::DeviceClass::android_mtp;
        case usb::UsbFunction::apple_usbmux:
            return devices::DeviceClass::apple;
        case usb::UsbFunction::mass_storage:
            return devices::DeviceClass::mass_storage;
    }
    return devices::DeviceClass::unsupported;
}

std::string detail_for(const usb::Classification& c) {
    if (c.has(usb::UsbFunction::adb))
        return "Android phone with USB debugging (ADB)";
    if (c.has(usb::UsbFunction::mtp))
        return "Android phone without USB debugging: turn on USB debugging to extract it";
    if (c.has(usb::UsbFunction::apple_usbmux))
        return "Apple device: not supported by this kiosk yet";
    if (c.has(usb::UsbFunction::mass_storage))
        return "USB storage: not supported by this kiosk yet";
    return fmt::format("not a supported device ({})", c.summary);
}

std::string classes_text(const devices::DeviceRecord& r) {
    std::string s;
    for (auto c : r.classes)
        s += fmt::format("{}{}", s.empty() ? "" : ",", devices::to_string(c));
    return s;
}

}  // namespace

devices::DeviceRecord to_device_record(const usb::UsbArrival& a) {
    devices::DeviceRecord r;
    for (const auto& f : a.classification.functions)
        r.classes.push_back(device_class(f.function));
    if (r.classes.empty())
        r.classes.push_back(devices::DeviceClass::unsupported);
    const auto& id = a.identity;
    r.identity = {.vendor_id = id.vendor_id,
                  .product_id = id.product_id,
                  .manufacturer = id.manufacturer,
                  .product = id.product,
                  .serial = id.serial,
                  .bus_path = id.bus_path,
                  .speed = id.speed};
    r.state = devices::DeviceState::connected;
    r.transport = "usb:" + id.bus_path;
    r.detail = detail_for(a.classification);
    return r;
}

Result<std::unique_ptr<UsbDevices>> UsbDevices::create(loop::LoopChannel& channel,
                                                       devices::DeviceRegistry& registry,
                                                       usb::BulkTransportOptions options) {
    auto context = usb::UsbContext::create();
    if (!context)
        return std::unexpected(context.error());
    return std::unique_ptr<UsbDevices>(
        new UsbDevices(channel, registry, std::move(*context), options));
}

UsbDevices::~UsbDevices() {
    *alive_ = false;
    monitor_.reset();  // no event is queued after this
}

Status UsbDevices::start(extract::SessionManager& sessions) {
    sessions_ = &sessions;
    auto monitor = usb::UsbMonitor::start(context_, [this, alive = alive_](usb::UsbEvent e) {
        // Monitor thread: hand the event to the loop, where the registry lives.
        channel_->post([this, alive, e = std::move(e)] {
            if (!*alive)
                return;
            if (const auto* a = std::get_if<usb::UsbArrival>(&e))
                arrived(*a);
            else
                left(std::get<usb::UsbRemoval>(e));
        });
    });
    if (!monitor)
        return std::unexpected(monitor.error());
    monitor_ = std::move(*monitor);
    return {};
}

void UsbDevices::arrived(const usb::UsbArrival& a) {
    auto record = to_device_record(a);
    const auto& id = a.identity;
    auto usb_id = fmt::format("{:04x}:{:04x}", id.vendor_id, id.product_id);
    auto device = registry_->add(record);
    device_of_plug_[a.plug_id] = device;
    {
        std::lock_guard lock(mutex_);
        plug_of_device_[device] = a.plug_id;
    }
    log::write(log::Level::info,
               fmt::format("USB device {} plugged in at {}: {} {} ({}, serial {}, {} speed){}",
                           device, id.bus_path, id.manufacturer, id.product, usb_id,
                           id.serial.empty() ? "none" : id.serial, id.speed,
                           a.note.empty() ? "" : "; " + a.note),
               {{"MESSAGE_ID", std::string(message_id::kUsbPlugged)},
                {"EXHIBIT_DEVICE", device},
                {"EXHIBIT_USB_BUS_PATH", id.bus_path},
                {"EXHIBIT_USB_ID", usb_id},
                {"EXHIBIT_USB_SERIAL", id.serial},
                {"EXHIBIT_USB_SPEED", id.speed}});
    log::write(log::Level::info,
               fmt::format("USB device {} classified as {}: {}", device, classes_text(record),
                           record.detail),
               {{"MESSAGE_ID", std::string(message_id::kUsbClassified)},
                {"EXHIBIT_DEVICE", device},
                {"EXHIBIT_DEVICE_CLASSES", classes_text(record)},
                {"EXHIBIT_USB_SUMMARY", a.classification.summary}});
}

void UsbDevices::left(const usb::UsbRemoval& r) {
    auto it = device_of_plug_.find(r.plug_id);
    if (it == device_of_plug_.end())
        return;
    auto device = it->second;
    device_of_plug_.erase(it);
    {
        std::lock_guard lock(mutex_);
        plug_of_device_.erase(device);
    }
    const auto* record = registry_->find(device);
    bool busy = record && record->state == devices::DeviceState::busy;
    if (sessions_)
        sessions_->device_gone(device);  // its session ends "interrupted: device disconnected"
    (void)registry_->remove(device);
    log::write(log::Level::info,
               fmt::format("USB device {} unplugged from {}{}", device, r.bus_path,
                           busy ? "; its extraction was stopped" : ""),
               {{"MESSAGE_ID", std::string(message_id::kUsbUnplugged)},
                {"EXHIBIT_DEVICE", device},
                {"EXHIBIT_USB_BUS_PATH", r.bus_path}});
}

extract::TransportFactory UsbDevices::transport_factory(extract::TransportFactory fallback) {
    return [this, fallback = std::move(fallback)](
               const devices::DeviceRecord& device) -> Result<std::unique_ptr<adb::Transport>> {
        if (!device.transport.starts_with("usb:"))
            return fallback ? fallback(device)
                            : fail(Errc::unsupported,
                                   fmt::format("{}: unknown transport", device.transport));
        return open(device);
    };
}

Result<std::unique_ptr<adb::Transport>> UsbDevices::open(const devices::DeviceRecord& device) {
    std::uint64_t plug = 0;
    {
        std::lock_guard lock(mutex_);
        auto it = plug_of_device_.find(device.id);
        if (it == plug_of_device_.end() || !monitor_)
            return fail(Errc::io, std::string(usb::kDisconnected));
        plug = it->second;
    }
    auto ref = monitor_->device(plug);
    if (!ref)
        return std::unexpected(ref.error());
    auto t = usb::UsbBulkTransport::open(context_, ref->get(), options_);
    if (!t)
        return std::unexpected(t.error());
    return std::unique_ptr<adb::Transport>(std::move(*t));
}

}  // namespace exhibit::devices
