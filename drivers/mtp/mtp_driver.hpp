// The MTP family behind the driver interface: Android phones without USB debugging, plugged
// in, unlocked, with "File transfer" chosen (the USB layer classifies their MTP interface as
// usb:mtp). Opening is libmtp's OpenSession; while the phone shows no storage (locked, or
// not yet switched to File transfer) the driver reports the device locked with the
// instruction, and waits. A session previews and extracts files with MtpExtractor.
//
// MtpDriver is thread-safe (open() runs on several workers at once); an MtpSession is used
// by one thread at a time, interrupt() from any.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "drivers/driver.hpp"
#include "drivers/mtp/mtp_device.hpp"
#include "drivers/mtp/mtp_extractor.hpp"

namespace exhibit::mtp {

// The instruction shown while an MTP phone offers no storage.
inline constexpr std::string_view kUnlockInstruction =
    "unlock the phone and choose File transfer in its USB notification";

// Why a phone reached over MTP offers files only.
inline constexpr std::string_view kFilesOnlyNote =
    "over MTP (File transfer) a phone gives its files only: messages, calls, contacts and "
    "apps need USB debugging (ADB)";

// usb::driver_function(UsbFunction::mtp): "usb:mtp".
drivers::Function usb_function();

struct MtpDriverOptions {
    // How long the person has to unlock the phone and choose File transfer.
    std::chrono::milliseconds user_wait{std::chrono::minutes(2)};
    // How often the phone's storage is asked for meanwhile.
    std::chrono::milliseconds poll{std::chrono::seconds(1)};
    MtpLimits limits;
};

class MtpDriver final : public drivers::Driver {
  public:
    explicit MtpDriver(MtpDriverOptions options = {});

    std::string_view name() const override { return "mtp"; }
    std::string_view version() const override;
    std::span<const drivers::Function> serves() const override { return serves_; }
    std::span<const drivers::Category> categories() const override { return kCategories; }
    std::string_view categories_note() const override { return kFilesOnlyNote; }
    Result<std::unique_ptr<drivers::DriverSession>> open(
        const drivers::Device& device, const drivers::OpenContext& context) const override;
    // The same, for the device at `bus`/`address` (libusb's numbering) without a port from
    // exhibit's USB layer: a driver host (drivers/host/) finds the device itself.
    Result<std::unique_ptr<drivers::DriverSession>> open_at(
        std::uint8_t bus, std::uint8_t address, std::uint16_t vendor_id, std::uint16_t product_id,
        const drivers::OpenContext& context) const;

  private:
    MtpDriverOptions options_;
    std::vector<drivers::Function> serves_;
};

class MtpSession final : public drivers::DriverSession {
  public:
    MtpSession(std::unique_ptr<MtpDevice> device, MtpLimits limits)
        : device_(std::move(device)), limits_(limits) {}

    Result<drivers::DeviceInfo> device_info() override { return extractor().device_info(); }
    Result<drivers::Preview> preview(const drivers::Scope& scope) override;
    Status extract(const drivers::Scope& scope, drivers::ArtefactSink& sink) override;
    void interrupt() override { device_->interrupt(); }
    bool reusable() const override { return !device_->interrupted() && !device_->broken(); }

  private:
    MtpExtractor extractor() { return MtpExtractor(*device_, limits_); }
    Status files_only(const drivers::Scope& scope) const;

    std::unique_ptr<MtpDevice> device_;
    MtpLimits limits_;
};

}  // namespace exhibit::mtp
