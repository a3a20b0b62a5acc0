// The iPhone family behind the driver interface: Apple devices whose usbmux interface the
// USB layer classified (usb:apple_usbmux), reached through the system's usbmuxd with
// libimobiledevice. Opening is the trust flow: while the phone is locked, shows "Trust This
// Computer?", or was answered Don't Trust, the driver reports the condition with the
// instruction for the person and tries again, until the phone trusts the kiosk, the wait is
// over or the device leaves. A session previews and extracts the camera roll over AFC
// (IosExtractor); when it ends, the kiosk's pairing is removed from the phone and from
// usbmuxd unless the force keeps pairings (IosDriverOptions::keep_pairing).
#pragma once

#include <atomic>

#include <chrono>
#include <memory>
#include <vector>

#include "drivers/driver.hpp"
#include "drivers/ios/afc_client.hpp"
#include "drivers/ios/ios_extractor.hpp"
#include "drivers/ios/ios_link.hpp"

namespace exhibit::ios {

// The instructions shown while the phone cannot be read yet.
inline constexpr std::string_view kUnlockInstruction = "unlock the phone";
inline constexpr std::string_view kTrustInstruction = "tap Trust on the phone";
inline constexpr std::string_view kRefusedInstruction =
    "Don't Trust was tapped: unplug the phone and plug it in again, then tap Trust";

// Why an iPhone offers photos and videos only.
inline constexpr std::string_view kCameraRollNote =
    "over USB an iPhone gives its camera roll (photos, videos, screenshots): messages, calls, "
    "contacts and apps need an iPhone backup, which this kiosk does not take yet";

// usb::driver_function(UsbFunction::apple_usbmux): "usb:apple_usbmux".
drivers::Function usb_function();

struct IosDriverOptions {
    // How long the person has to unlock the phone and tap Trust.
    std::chrono::milliseconds user_wait{std::chrono::minutes(2)};
    // How often the phone is asked again meanwhile.
    std::chrono::milliseconds poll{std::chrono::seconds(1)};
    // How long usbmuxd may take to list a phone the USB layer found.
    std::chrono::milliseconds appear{std::chrono::seconds(10)};
    // A phone that sends nothing for this long is taken as stalled.
    std::chrono::milliseconds stall{std::chrono::seconds(30)};
    // Keep the kiosk's pairing on the phone and in usbmuxd after the session.
    bool keep_pairing = false;
    // Removing the kiosk's half of a pairing after the phone has gone runs on a thread of its
    // own, not waited for (usbmuxd 1.1.1 can hang in its clean-up after an unplug). In the
    // driver host, where exhibitd answers that request within seconds whatever usbmuxd does,
    // it is asked in line.
    bool pairing_removal_in_background = true;
    IosLimits limits;
    AfcLimits afc;
};

class IosDriver final : public drivers::Driver {
  public:
    explicit IosDriver(IosDriverOptions options = {});

    std::string_view name() const override { return "ios"; }
    std::string_view version() const override;
    std::span<const drivers::Function> serves() const override { return serves_; }
    std::span<const drivers::Category> categories() const override { return kCategories; }
    std::string_view categories_note() const override { return kCameraRollNote; }
    Result<std::unique_ptr<drivers::DriverSession>> open(
        const drivers::Device& device, const drivers::OpenContext& context) const override;

  private:
    IosDriverOptions options_;
    std::vector<drivers::Function> serves_;
};

class IosSession final : public drivers::DriverSession {
  public:
    IosSession(std::unique_ptr<IosLink> link, IosLink::Values values,
               std::unique_ptr<AfcConnection> connection, const IosDriverOptions& options);
    ~IosSession() override;

    Result<drivers::DeviceInfo> device_info() override;
    Result<drivers::Preview> preview(const drivers::Scope& scope) override;
    Status extract(const drivers::Scope& scope, drivers::ArtefactSink& sink) override;
    void interrupt() override;
    bool reusable() const override;

  private:
    Status camera_roll_only(const drivers::Scope& scope) const;
    // Removes the kiosk's pairing from the phone and from usbmuxd (unless kept), once; only
    // the kiosk's half when the phone has gone (the AFC connection was lost).
    void end_pairing(bool phone_gone);

    std::unique_ptr<IosLink> link_;
    IosLink::Values values_;
    std::unique_ptr<AfcConnection> connection_;
    AfcClient afc_;
    IosLimits limits_;
    bool keep_pairing_;
    bool pairing_removal_in_background_;
    // The pairing was removed after an extraction: the session is spent (not reusable), and
    // the next extraction opens the phone again, asking for Trust.
    std::atomic<bool> pairing_ended_{false};
};

}  // namespace exhibit::ios
