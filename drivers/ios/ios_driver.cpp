#include "drivers/ios/ios_driver.hpp"

#include <condition_variable>
#include <mutex>

#include <fmt/format.h>

#include "drivers/usb/usb_port.hpp"

namespace exhibit::ios {

drivers::Function usb_function() {
    return usb::driver_function(usb::UsbFunction::apple_usbmux);
}

IosDriver::IosDriver(IosDriverOptions options) : options_(options), serves_{usb_function()} {}

std::string_view IosDriver::version() const {
    static const std::string v = "1 (libimobiledevice 1.3, AFC)";
    return v;
}

Result<std::unique_ptr<drivers::DriverSession>> IosDriver::open(
    const drivers::Device& device, const drivers::OpenContext& context) const {
    if (!device.offers(usb_function()))
        return fail(Errc::unsupported, fmt::format("{} offers no usbmux interface", device.id));
    if (device.serial.empty())
        return fail(Errc::unsupported,
                    fmt::format("{} gives no serial number, so usbmuxd cannot name it", device.id));
    auto link = IosLink::connect(udid_from_usb_serial(device.serial), options_.appear,
                                 context.stop);
    if (!link)
        return std::unexpected(link.error());
    // Trust is asked for each time the kiosk opens the phone: a pairing still here was left
    // by an exhibitd that stopped before it could remove it (killed, the power cut), and the
    // person's consent then was for that session, not this one.
    if (!options_.keep_pairing && (*link)->paired())
        (void)(*link)->forget_pairing();

    // The trust flow: ask again every `poll` while the person unlocks the phone and taps
    // Trust; each new condition is reported once, with its instruction. The person's time
    // counts from the first instruction, not from the handshake before it.
    std::mutex m;
    std::condition_variable_any cv;
    std::optional<std::chrono::steady_clock::time_point> deadline;
    std::optional<Trust> reported;
    for (;;) {
        auto trust = (*link)->try_session();
        if (!trust)
            return std::unexpected(trust.error());
        if (*trust == Trust::trusted)
            break;
        if (!deadline)
            deadline = std::chrono::steady_clock::now() + options_.user_wait;
        if (reported != *trust && context.report) {
            switch (*trust) {
                case Trust::locked:
                    context.report(drivers::DeviceCondition::locked,
                                   std::string(kUnlockInstruction));
                    break;
                case Trust::pending:
                    context.report(drivers::DeviceCondition::needs_authorisation,
                                   std::string(kTrustInstruction));
                    break;
                case Trust::refused:
                    context.report(drivers::DeviceCondition::needs_authorisation,
                                   std::string(kRefusedInstruction));
                    break;
                case Trust::trusted:
                    break;
            }
        }
        reported = *trust;
        std::unique_lock lock(m);
        cv.wait_for(lock, context.stop, options_.poll, [] { return false; });
        if (context.stop.stop_requested())
            return fail(Errc::cancelled, "stopped while waiting for the phone to trust the kiosk");
        if (std::chrono::steady_clock::now() >= *deadline)
            return fail(Errc::timeout, *trust == Trust::locked
                                           ? "the phone stayed locked"
                                           : "the phone did not trust the kiosk: Trust was not "
                                             "tapped on it");
    }
    auto values = (*link)->values();
    if (!values)
        return std::unexpected(values.error());
    auto connection = (*link)->start_afc(options_.stall);
    if (!connection)
        return std::unexpected(connection.error());
    return std::make_unique<IosSession>(std::move(*link), std::move(*values),
                                        std::move(*connection), options_);
}

IosSession::IosSession(std::unique_ptr<IosLink> link, IosLink::Values values,
                       std::unique_ptr<AfcConnection> connection, const IosDriverOptions& options)
    : link_(std::move(link)),
      values_(std::move(values)),
      connection_(std::move(connection)),
      afc_(*connection_, options.afc),
      limits_(options.limits),
      keep_pairing_(options.keep_pairing),
      pairing_removal_in_background_(options.pairing_removal_in_background) {}

IosSession::~IosSession() {
    const bool gone = connection_->lost();
    connection_.reset();
    end_pairing(gone);
}

void IosSession::end_pairing(bool phone_gone) {
    if (keep_pairing_ || pairing_ended_.exchange(true))
        return;
    if (phone_gone)
        link_->forget_kiosk_half(pairing_removal_in_background_);
    else
        (void)link_->forget_pairing();
}

Result<drivers::DeviceInfo> IosSession::device_info() {
    const auto& v = values_.values;
    auto value = [&](const char* key) {
        auto it = v.find(key);
        return it == v.end() ? std::string() : it->second;
    };
    drivers::DeviceInfo info;
    info.manufacturer = "Apple";
    info.model = value("ProductType");
    info.serial = value("SerialNumber");
    info.os_version = fmt::format("iOS {}", value("ProductVersion"));
    info.build_fingerprint = value("BuildVersion");
    info.clock_offset_ms = values_.clock_offset_ms;
    for (const auto& [key, text] : v)
        info.properties["ios." + key] = text;
    info.properties["ios.udid"] = link_->udid();
    return info;
}

Status IosSession::camera_roll_only(const drivers::Scope& scope) const {
    return drivers::refuse_unoffered(scope, kCategories, kCameraRollNote);
}

Result<drivers::Preview> IosSession::preview(const drivers::Scope& scope) {
    if (auto s = camera_roll_only(scope); !s)
        return std::unexpected(s.error());
    return IosExtractor(afc_, limits_).preview(scope);
}

Status IosSession::extract(const drivers::Scope& scope, drivers::ArtefactSink& sink) {
    if (auto s = camera_roll_only(scope); !s)
        return s;
    auto extracted = IosExtractor(afc_, limits_).extract(scope, sink);
    // The person's Trust was consent to this extraction: the pairing goes as it ends, while
    // the phone is most likely still plugged in (exhibitd keeps a session open until the
    // phone leaves, and an Unpair cannot reach a phone that has gone). Another extraction
    // opens the phone again and asks for Trust again.
    end_pairing(connection_->lost());
    return extracted;
}

void IosSession::interrupt() {
    link_->interrupt();
    connection_->interrupt();
}

bool IosSession::reusable() const {
    return !pairing_ended_ && !connection_->interrupted() && !connection_->broken();
}

}  // namespace exhibit::ios
