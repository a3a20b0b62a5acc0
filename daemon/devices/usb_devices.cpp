#include "daemon/devices/usb_devices.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "common/log.hpp"
#include "drivers/usb/usb_error.hpp"
#include "drivers/usb/usb_port.hpp"

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

// `served`: a registered family serves one of the device's functions.
std::string detail_for(const usb::Classification& c, bool served) {
    if (c.has(usb::UsbFunction::adb))
        return "Android phone with USB debugging (ADB)";
    if (c.has(usb::UsbFunction::mtp) && served)
        return "Android phone in File transfer mode (MTP): its files only";
    if (c.has(usb::UsbFunction::mtp))
        return "USB debugging is off: turn it on in the phone's Developer options to extract "
               "this phone";
    if (c.has(usb::UsbFunction::apple_usbmux) && served)
        return "iPhone or iPad: its camera roll (photos and videos)";
    if (c.has(usb::UsbFunction::apple_usbmux))
        return "Apple device: not supported by this kiosk yet";
    if (c.has(usb::UsbFunction::mass_storage))
        return "USB storage: not supported by this kiosk yet";
    return fmt::format("not a supported device ({})", c.summary);
}

}  // namespace

bool is_mass_storage_only(const usb::Classification& c) {
    return !c.functions.empty() &&
           std::ranges::all_of(c.functions, [](const usb::FunctionMatch& f) {
               return f.function == usb::UsbFunction::mass_storage;
           });
}

devices::DeviceRecord to_device_record(const usb::UsbArrival& a,
                                       const drivers::DriverRegistry& drivers) {
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
    r.transport = "usb:" + id.bus_path;
    for (const auto& f : a.classification.functions)
        r.functions.push_back(usb::driver_function(f.function));
    const bool served = drivers.find(r.functions) != nullptr;
    r.detail = detail_for(a.classification, served);
    r.usb_port = a.port;
    r.state = served ? devices::DeviceState::connected : devices::DeviceState::unsupported;
    return r;
}

Result<std::unique_ptr<UsbDevices>> UsbDevices::create(loop::LoopChannel& channel,
                                                       devices::DeviceRegistry& registry,
                                                       const drivers::DriverRegistry& drivers,
                                                       UsbDevicesOptions options) {
    auto context = usb::UsbContext::create();
    if (!context)
        return std::unexpected(context.error());
    return std::unique_ptr<UsbDevices>(
        new UsbDevices(channel, registry, drivers, std::move(*context), options));
}

UsbDevices::~UsbDevices() {
    *alive_ = false;
    monitor_.reset();  // no event is queued after this
}

Status UsbDevices::start() {
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
    auto record = to_device_record(a, *drivers_);
    const auto& id = a.identity;
    auto usb_id = fmt::format("{:04x}:{:04x}", id.vendor_id, id.product_id);
    const auto classes = devices::classes_text(record);
    // No serial number: nothing that identifies a person's phone leaves the kiosk in its log.
    const auto note = a.note.empty() ? std::string() : "; " + a.note;
    if (options_.disks_from_udev && is_mass_storage_only(a.classification)) {
        // The disk behind it is BlockDevices' device: logged here, not added twice.
        device_of_plug_[a.plug_id] = std::string();
        log::event(log::Level::info, message_id::kUsbPlugged,
                   fmt::format("USB disk plugged in at {}: {} {} ({}, {} speed){}", id.bus_path,
                               id.manufacturer, id.product, usb_id, id.speed, note),
                   {{"EXHIBIT_USB_BUS_PATH", id.bus_path},
                    {"EXHIBIT_USB_ID", usb_id},
                    {"EXHIBIT_USB_SPEED", id.speed}});
        log::event(
            log::Level::info, message_id::kUsbClassified,
            fmt::format("USB disk at {} classified as {}: its disk is shown as a "
                        "removable disk, found through udev",
                        id.bus_path, classes),
            {log::field::device_class(classes), {"EXHIBIT_USB_SUMMARY", a.classification.summary}});
        return;
    }
    auto device = registry_->add(record);
    device_of_plug_[a.plug_id] = device;
    log::event(log::Level::info, message_id::kUsbPlugged,
               fmt::format("USB device {} plugged in at {}: {} {} ({}, {} speed){}", device,
                           id.bus_path, id.manufacturer, id.product, usb_id, id.speed, note),
               {log::field::device(device),
                {"EXHIBIT_USB_BUS_PATH", id.bus_path},
                {"EXHIBIT_USB_ID", usb_id},
                {"EXHIBIT_USB_SPEED", id.speed}});
    log::event(log::Level::info, message_id::kUsbClassified,
               fmt::format("USB device {} classified as {}: {}", device, classes, record.detail),
               {log::field::device(device),
                log::field::device_class(classes),
                {"EXHIBIT_USB_SUMMARY", a.classification.summary}});
}

void UsbDevices::left(const usb::UsbRemoval& r) {
    auto it = device_of_plug_.find(r.plug_id);
    if (it == device_of_plug_.end())
        return;
    auto device = it->second;
    device_of_plug_.erase(it);
    if (device.empty()) {
        // A disk left to BlockDevices: its own removal ends its device and session.
        log::event(log::Level::info, message_id::kUsbUnplugged,
                   fmt::format("USB disk unplugged from {}", r.bus_path),
                   {log::field::device_class(
                        std::string(devices::to_string(devices::DeviceClass::mass_storage))),
                    {"EXHIBIT_USB_BUS_PATH", r.bus_path}});
        return;
    }
    const auto* record = registry_->find(device);
    bool busy = record && record->state == devices::DeviceState::busy;
    const auto classes = record ? devices::classes_text(*record) : std::string();
    // Observers (the session manager) stop its session: "interrupted: device disconnected".
    (void)registry_->remove(device);
    log::event(log::Level::info, message_id::kUsbUnplugged,
               fmt::format("USB device {} unplugged from {}{}", device, r.bus_path,
                           busy ? "; its extraction was stopped" : ""),
               {log::field::device(device),
                log::field::device_class(classes),
                {"EXHIBIT_USB_BUS_PATH", r.bus_path}});
}

}  // namespace exhibit::devices
