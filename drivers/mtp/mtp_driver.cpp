#include "drivers/mtp/mtp_driver.hpp"

#include <libmtp.h>
#include <libusb.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include <fmt/format.h>

#include "drivers/usb/usb_port.hpp"

namespace exhibit::mtp {

drivers::Function usb_function() {
    return usb::driver_function(usb::UsbFunction::mtp);
}

MtpDriver::MtpDriver(MtpDriverOptions options) : options_(options), serves_{usb_function()} {}

std::string_view MtpDriver::version() const {
    static const std::string v = fmt::format("1 (libmtp {})", LIBMTP_VERSION_STRING);
    return v;
}

Result<std::unique_ptr<drivers::DriverSession>> MtpDriver::open(
    const drivers::Device& device, const drivers::OpenContext& context) const {
    if (!device.usb || !device.offers(usb_function()))
        return fail(Errc::unsupported, fmt::format("{} offers no MTP interface", device.id));
    libusb_device* usb_device = device.usb->device();
    return open_at(libusb_get_bus_number(usb_device), libusb_get_device_address(usb_device),
                   device.vendor_id, device.product_id, context);
}

Result<std::unique_ptr<drivers::DriverSession>> MtpDriver::open_at(
    std::uint8_t bus, std::uint8_t address, std::uint16_t vendor_id, std::uint16_t product_id,
    const drivers::OpenContext& context) const {
    auto opened = MtpDevice::open(bus, address, vendor_id, product_id);
    if (!opened)
        return std::unexpected(opened.error());
    auto mtp = std::move(*opened);
    // A locked phone (or one still in "charging only") answers with no storage: wait for
    // the person, asking again every `poll`, until the wait is over or the device leaves.
    std::mutex m;
    std::condition_variable_any cv;
    const auto deadline = std::chrono::steady_clock::now() + options_.user_wait;
    for (bool reported = false;;) {
        auto storages = mtp->storages();
        if (!storages)
            return std::unexpected(storages.error());
        if (!storages->empty())
            break;
        if (!reported && context.report)
            context.report(drivers::DeviceCondition::locked, std::string(kUnlockInstruction));
        reported = true;
        std::unique_lock lock(m);
        if (cv.wait_for(lock, context.stop, options_.poll, [] { return false; }),
            context.stop.stop_requested())
            return fail(Errc::cancelled, "stopped while waiting for the phone to be unlocked");
        if (std::chrono::steady_clock::now() >= deadline)
            return fail(Errc::timeout,
                        "the phone showed no storage: it stayed locked, or File transfer was "
                        "not chosen on it");
    }
    return std::make_unique<MtpSession>(std::move(mtp), options_.limits);
}

Status MtpSession::files_only(const drivers::Scope& scope) const {
    return drivers::refuse_unoffered(scope, kCategories, kFilesOnlyNote);
}

Result<drivers::Preview> MtpSession::preview(const drivers::Scope& scope) {
    if (auto s = files_only(scope); !s)
        return std::unexpected(s.error());
    return extractor().preview(scope);
}

Status MtpSession::extract(const drivers::Scope& scope, drivers::ArtefactSink& sink) {
    if (auto s = files_only(scope); !s)
        return s;
    return extractor().extract(scope, sink);
}

}  // namespace exhibit::mtp
