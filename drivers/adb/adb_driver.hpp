// The ADB family behind the driver interface: Android phones with USB debugging on, reached
// over their USB ADB interface (ff/42/01, ADB's bulk framing in usb_transport.hpp) or over
// TCP ("adb connect"). Opening a phone is the CNXN/AUTH handshake; while the phone shows its
// "Allow USB debugging?" prompt the driver reports needs_authorisation. A session previews
// and extracts with AdbExtractor (adb_extractor.hpp).
//
// AdbDriver is thread-safe (open() runs on several workers at once); an AdbSession is used
// by one thread at a time, interrupt() from any.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "common/clock.hpp"
#include "drivers/adb/adb_extractor.hpp"
#include "drivers/adb/android_pubkey.hpp"
#include "drivers/adb/connection.hpp"
#include "drivers/adb/usb_transport.hpp"
#include "drivers/driver.hpp"

namespace exhibit::adb {

// ADB over the network: a device whose address is "tcp:HOST:PORT" offers this.
inline constexpr std::string_view kTcpFunctionName = "tcp:adb";
drivers::Function tcp_function();
// ADB on a USB interface (usb::driver_function(UsbFunction::adb), "usb:adb").
drivers::Function usb_function();

struct AdbDriverOptions {
    // The kiosk's key, offered to phones that ask for AUTH; without it such phones fail.
    std::shared_ptr<const AdbAuthKey> host_key;
    // How long the person has to allow this kiosk on the phone.
    std::chrono::milliseconds user_wait{std::chrono::minutes(2)};
    ExtractorLimits limits;
    BulkTransportOptions usb;
    std::chrono::milliseconds tcp_connect_timeout{10'000};
    const Clock* clock = &Clock::system();
};

class AdbDriver final : public drivers::Driver {
  public:
    explicit AdbDriver(AdbDriverOptions options);

    std::string_view name() const override { return "adb"; }
    std::string_view version() const override;
    std::span<const drivers::Category> categories() const override {
        return drivers::kPhoneCategories;
    }
    std::span<const drivers::Function> serves() const override { return serves_; }
    Result<std::unique_ptr<drivers::DriverSession>> open(
        const drivers::Device& device, const drivers::OpenContext& context) const override;
    // The handshake and the session on a link already open (the driver host's child opens
    // it, or is given it by exhibitd: drivers/adb/hosted_adb.hpp).
    Result<std::unique_ptr<drivers::DriverSession>> open_on(
        std::unique_ptr<Transport> link, const drivers::OpenContext& context) const;
    // A phone on the network ("tcp:HOST:PORT"), connected; Errc::cancelled at a stop.
    Result<std::unique_ptr<TcpTransport>> connect_network(const drivers::Device& device,
                                                          const std::stop_token& stop) const;

  private:
    Result<std::unique_ptr<Transport>> connect(const drivers::Device& device,
                                               const std::stop_token& stop) const;

    AdbDriverOptions options_;
    std::vector<drivers::Function> serves_;
};

// One open ADB connection as a driver session. Public so that tests and benchmarks that
// open a connection themselves run the same code.
class AdbSession final : public drivers::DriverSession {
  public:
    AdbSession(std::unique_ptr<Connection> connection, const Clock& clock,
               ExtractorLimits limits = {});

    Result<drivers::DeviceInfo> device_info() override;
    Result<drivers::Preview> preview(const drivers::Scope& scope) override;
    Status extract(const drivers::Scope& scope, drivers::ArtefactSink& sink) override;
    void interrupt() override;
    bool reusable() const override;

    Connection& connection() { return *connection_; }

  private:
    AdbExtractor extractor() { return AdbExtractor(*connection_, *clock_, limits_); }

    std::unique_ptr<Connection> connection_;
    Transport* transport_;  // the connection's: shut down by interrupt()
    const Clock* clock_;
    ExtractorLimits limits_;
    std::atomic<bool> interrupted_{false};
};

}  // namespace exhibit::adb
