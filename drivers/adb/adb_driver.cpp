#include "drivers/adb/adb_driver.hpp"

#include <cstdlib>

#include <fmt/format.h>

#include "drivers/usb/usb_port.hpp"

namespace exhibit::adb {

namespace {

// The connection's view of a transport that the opening thread's stop callback also holds,
// so that a stop request never reaches a transport the connection has already destroyed.
class SharedTransport final : public Transport {
  public:
    explicit SharedTransport(std::shared_ptr<Transport> t) : t_(std::move(t)) {}
    Status read_exact(std::span<std::byte> buffer) override { return t_->read_exact(buffer); }
    Status write_message(std::span<const std::byte> header,
                         std::span<const std::byte> payload) override {
        return t_->write_message(header, payload);
    }
    void shutdown() override { t_->shutdown(); }
    std::string describe() const override { return t_->describe(); }
    Result<bool> wait_readable(std::chrono::milliseconds timeout) override {
        return t_->wait_readable(timeout);
    }

  private:
    std::shared_ptr<Transport> t_;
};

// "tcp:HOST:PORT" -> host and port.
Result<std::pair<std::string, std::uint16_t>> tcp_address(const drivers::Device& device) {
    std::string_view a = device.address;
    if (!a.starts_with("tcp:"))
        return fail(Errc::invalid_argument,
                    fmt::format("{}: \"{}\" is not a network address", device.id, a));
    auto hostport = a.substr(4);
    auto colon = hostport.rfind(':');
    if (colon == std::string_view::npos || colon == 0)
        return fail(Errc::invalid_argument, "network device without a port");
    int port = std::atoi(std::string(hostport.substr(colon + 1)).c_str());
    if (port <= 0 || port > 65535)
        return fail(Errc::invalid_argument, "network device with a bad port");
    return std::pair(std::string(hostport.substr(0, colon)), static_cast<std::uint16_t>(port));
}

}  // namespace

drivers::Function tcp_function() {
    return {std::string(kTcpFunctionName)};
}

drivers::Function usb_function() {
    return usb::driver_function(usb::UsbFunction::adb);
}

AdbDriver::AdbDriver(AdbDriverOptions options)
    : options_(std::move(options)), serves_{usb_function(), tcp_function()} {}

std::string_view AdbDriver::version() const {
    static const std::string v = fmt::format("1 (ADB protocol {:08x}, sync v2)", kVersion);
    return v;
}

Result<std::unique_ptr<Transport>> AdbDriver::connect(const drivers::Device& device,
                                                      const std::stop_token& stop) const {
    if (device.usb && device.offers(usb_function())) {
        const auto& port = *device.usb;
        auto t = UsbBulkTransport::open(port.context(), port.device(), options_.usb);
        if (!t)
            return std::unexpected(t.error());
        return std::unique_ptr<Transport>(std::move(*t));
    }
    if (device.offers(tcp_function())) {
        auto t = connect_network(device, stop);
        if (!t)
            return std::unexpected(t.error());
        return std::unique_ptr<Transport>(std::move(*t));
    }
    return fail(Errc::unsupported, fmt::format("{} offers no ADB interface", device.id));
}

Result<std::unique_ptr<TcpTransport>> AdbDriver::connect_network(
    const drivers::Device& device, const std::stop_token& stop) const {
    auto address = tcp_address(device);
    if (!address)
        return std::unexpected(address.error());
    return TcpTransport::connect(address->first, address->second, options_.tcp_connect_timeout,
                                 stop);
}

Result<std::unique_ptr<drivers::DriverSession>> AdbDriver::open(
    const drivers::Device& device, const drivers::OpenContext& context) const {
    auto opened = connect(device, context.stop);
    if (!opened)
        return std::unexpected(opened.error());
    return open_on(std::move(*opened), context);
}

Result<std::unique_ptr<drivers::DriverSession>> AdbDriver::open_on(
    std::unique_ptr<Transport> link, const drivers::OpenContext& context) const {
    std::shared_ptr<Transport> transport(std::move(link));
    // Unplug, cancel or shutdown while the handshake waits (for the person, say).
    std::stop_callback on_stop(context.stop, [transport] { transport->shutdown(); });
    ConnectOptions options{.key = options_.host_key.get(), .user_wait = options_.user_wait};
    options.on_auth_state = [&context](AuthState state) {
        if (state == AuthState::waiting_for_user && context.report)
            context.report(drivers::DeviceCondition::needs_authorisation,
                           "waiting for the person to allow this kiosk on the phone");
    };
    auto connection = Connection::open(std::make_unique<SharedTransport>(transport), options);
    if (!connection) {
        if (context.stop.stop_requested())
            return fail(Errc::cancelled, "stopped while connecting to the phone");
        return std::unexpected(connection.error());
    }
    return std::make_unique<AdbSession>(std::move(*connection), *options_.clock, options_.limits);
}

AdbSession::AdbSession(std::unique_ptr<Connection> connection, const Clock& clock,
                       ExtractorLimits limits)
    : connection_(std::move(connection)),
      transport_(&connection_->transport()),
      clock_(&clock),
      limits_(limits) {}

Result<drivers::DeviceInfo> AdbSession::device_info() {
    return extractor().device_info();
}

Result<drivers::Preview> AdbSession::preview(const drivers::Scope& scope) {
    return extractor().preview(scope);
}

Status AdbSession::extract(const drivers::Scope& scope, drivers::ArtefactSink& sink) {
    return extractor().extract(scope, sink);
}

void AdbSession::interrupt() {
    interrupted_ = true;
    transport_->shutdown();
}

bool AdbSession::reusable() const {
    return !interrupted_ && connection_->healthy();
}

}  // namespace exhibit::adb
