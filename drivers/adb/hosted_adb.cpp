#include "drivers/adb/hosted_adb.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "drivers/host/driver_host.hpp"
#include "drivers/host/hosted_driver.hpp"
#include "drivers/usb/usb_identity.hpp"

namespace exhibit::adb {

namespace {

// The kiosk's key as the child sees it: every use is a question to exhibitd.
class KeyInExhibitd final : public AdbAuthKey {
  public:
    explicit KeyInExhibitd(int host_socket) : fd_(host_socket) {}
    Result<std::array<std::byte, kRsaSignatureSize>> sign_token(
        std::span<const std::byte> token) const override {
        auto signature = host::ask_signature(fd_, token);
        if (!signature)
            return std::unexpected(signature.error());
        std::array<std::byte, kRsaSignatureSize> out{};
        if (signature->size() != out.size())
            return fail(Errc::protocol, fmt::format("exhibitd sent a signature of {} bytes",
                                                    signature->size()));
        std::ranges::copy(*signature, out.begin());
        return out;
    }
    Result<std::string> offered_key() const override { return host::ask_public_key(fd_); }

  private:
    int fd_;
};

}  // namespace

std::unique_ptr<drivers::Driver> hosted_adb_driver(HostedAdbOptions options) {
    // The description exhibitd keeps (name, functions, categories) and its network connector;
    // it holds no key: sessions are opened by the child.
    auto family = std::make_unique<AdbDriver>(
        AdbDriverOptions{.tcp_connect_timeout = options.tcp_connect_timeout});
    const AdbDriver* connector = family.get();
    host::HostedDriverOptions hosting{
        .program = std::move(options.program),
        .arguments = {"--user-wait-seconds", std::to_string(options.user_wait.count())},
        // Opening sends nothing while the person decides on the phone.
        .silence_limit = std::max<std::chrono::milliseconds>(std::chrono::minutes(10),
                                                             options.user_wait +
                                                                 std::chrono::minutes(1)),
        // A record query may hold ExtractorLimits::max_record_output (256 MiB) and its rows.
        .memory_limit = kHostedAdbMemory,
        .open_device = [connector](const drivers::Device& device,
                                   const drivers::OpenContext& context) -> Result<UniqueFd> {
            if (device.usb && device.offers(usb_function()))
                return UniqueFd{};  // the child claims the interface itself
            auto link = connector->connect_network(device, context.stop);
            if (!link)
                return std::unexpected(link.error());
            return std::move(**link).release();
        },
        .device_key = host::HostedDriverOptions::DeviceKey{
            .challenge_size = kAuthTokenSize,
            .sign = [key = options.host_key](std::span<const std::byte> token)
                -> Result<std::vector<std::byte>> {
                if (!key)
                    return fail(Errc::crypto, "no ADB host key is configured");
                auto signature = key->sign_token(token);
                if (!signature)
                    return std::unexpected(signature.error());
                return std::vector<std::byte>(signature->begin(), signature->end());
            },
            .public_key = [key = options.host_key]() -> Result<std::string> {
                if (!key)
                    return fail(Errc::crypto, "no ADB host key is configured");
                return key->public_key_line();
            }}};
    return std::make_unique<host::HostedDriver>(std::move(family), std::move(hosting));
}

Result<std::unique_ptr<drivers::DriverSession>> open_hosted_adb(
    const host::HostedDevice& device, const drivers::OpenContext& context, UniqueFd link,
    int host_socket, std::chrono::seconds user_wait) {
    AdbDriver driver({.host_key = std::make_shared<KeyInExhibitd>(host_socket),
                      .user_wait = user_wait});
    std::unique_ptr<Transport> transport;
    if (link) {
        if (!device.device.offers(tcp_function()))
            return fail(Errc::invalid_argument, "a link was given for a phone not on the network");
        transport = std::make_unique<TcpTransport>(std::move(link), device.device.address);
    } else {
        if (!device.usb_bus || !device.usb_address || !device.device.offers(usb_function()))
            return fail(Errc::invalid_argument, "an ADB phone without a link must be on USB");
        auto usb = usb::UsbContext::create();
        if (!usb)
            return std::unexpected(usb.error());
        auto found = usb::find_device(**usb, *device.usb_bus, *device.usb_address,
                                      device.device.vendor_id, device.device.product_id);
        if (!found)
            return std::unexpected(found.error());
        auto opened = UsbBulkTransport::open(*usb, found->get());
        if (!opened)
            return std::unexpected(opened.error());
        transport = std::move(*opened);
    }
    // Everything from here on is the phone's choosing: read under the filter.
    if (auto confined = host::forbid_reaching_out(); !confined)
        return std::unexpected(confined.error().with_context("driver host"));
    return driver.open_on(std::move(transport), context);
}

}  // namespace exhibit::adb
