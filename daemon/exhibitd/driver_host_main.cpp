// exhibit-driver-host: one device family's session for one device, in a process of its own
// (drivers/host/README.md). exhibitd starts it with its end of a socket as fd 3; it is not
// meant to be run by hand.
//
//   exhibit-driver-host --family mtp --memory-limit BYTES [--user-wait-seconds N]
//   exhibit-driver-host --family adb --memory-limit BYTES [--device-fd 4] [--user-wait-seconds N]
//   exhibit-driver-host --family storage --memory-limit BYTES --device-fd 4
//   exhibit-driver-host --family ios --memory-limit BYTES [--user-wait-ms N]
//       [--poll-ms N] [--appear-ms N] [--stall-ms N] [--keep-pairing yes|no]
//       [--max-entries N] [--max-depth N] [--max-listing-bytes N] [--read-chunk N]
//     (the iPhone family's settings come after --family ios)
//
// A storage child is given the disk exhibitd opened read-only as fd 4, an ADB child a phone's
// network link exhibitd connected; either loads its system call filter before it reads the
// request or a byte of the device. An ADB child without fd 4 claims the phone's USB interface
// itself and loads the filter before the handshake. An iPhone child loads it first too: it
// reaches usbmuxd only through exhibitd (drivers/ios/hosted_ios.hpp).
// Before anything of the phone is read the process confines itself
// (host::confine_driver_host: it ends with exhibitd, gains no privilege, keeps no inherited
// descriptor, writes no file, dumps no core, and grows no further than --memory-limit).
// Exit status: 0 when exhibitd closed its end, 1 when the socket failed or the process could
// not confine itself, 2 for a request this program cannot take.
#include <fcntl.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "drivers/adb/hosted_adb.hpp"
#include "drivers/host/driver_host.hpp"
#include "drivers/ios/hosted_ios.hpp"
#include "drivers/mtp/mtp_driver.hpp"
#include "drivers/storage/storage_driver.hpp"

using namespace exhibit;

namespace {

bool parse_number(std::string_view text, std::uint64_t& out) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size();
}

int usage(std::string_view why) {
    std::fputs(fmt::format("exhibit-driver-host: {}\nusage: exhibit-driver-host --family mtp "
                           "--memory-limit BYTES [--user-wait-seconds N]\n"
                           "       exhibit-driver-host --family adb --memory-limit BYTES "
                           "[--device-fd 4] [--user-wait-seconds N]\n"
                           "       exhibit-driver-host --family storage --memory-limit BYTES "
                           "--device-fd 4\n"
                           "       exhibit-driver-host --family ios --memory-limit BYTES "
                           "[--user-wait-ms N] [--poll-ms N] [--appear-ms N] "
                           "[--stall-ms N] [--keep-pairing yes|no] [--max-entries N] "
                           "[--max-depth N] [--max-listing-bytes N] [--read-chunk N]\n",
                           why)
                   .c_str(),
               stderr);
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::string family;
    std::uint64_t memory_limit = 0;
    std::uint64_t user_wait_seconds = 120;
    std::uint64_t device_fd = 0;
    std::vector<std::string> ios_arguments;  // the iPhone family's settings (after --family)
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (i + 1 >= argc)
            return usage(fmt::format("{} needs a value", arg));
        std::string_view value = argv[++i];
        if (arg == "--family")
            family = value;
        else if (arg == "--memory-limit" && parse_number(value, memory_limit) &&
                 memory_limit >= (16u << 20))
            continue;
        else if (arg == "--user-wait-seconds" && family != "ios" &&
                 parse_number(value, user_wait_seconds) && user_wait_seconds <= 24 * 3600)
            continue;
        else if (arg == "--device-fd" && parse_number(value, device_fd) &&
                 device_fd == host::kDeviceFd)
            continue;
        else if (arg.starts_with("--") && family == "ios")  // checked by the family below
            ios_arguments.insert(ios_arguments.end(), {std::string(arg), std::string(value)});
        else
            return usage(fmt::format("unusable {} {}", arg, value));
    }
    if (memory_limit == 0)
        return usage("--memory-limit is missing");
    if (::fcntl(host::kHostSocket, F_GETFD) < 0)
        return usage("started without its socket (fd 3): exhibitd starts this program");
    const bool given_device = device_fd == host::kDeviceFd;
    if (given_device && ::fcntl(host::kDeviceFd, F_GETFD) < 0)
        return usage("--device-fd 4 without a descriptor 4");
    if (auto confined = host::confine_driver_host(memory_limit, given_device); !confined) {
        std::fputs(fmt::format("exhibit-driver-host: {}\n", confined.error().describe()).c_str(),
                   stderr);
        return 1;
    }

    if (family == "mtp") {
        mtp::MtpDriver driver(
            {.user_wait = std::chrono::seconds(user_wait_seconds)});
        return host::serve_device(
            host::kHostSocket, [&](const host::HostedDevice& d, const drivers::OpenContext& context)
                         -> Result<std::unique_ptr<drivers::DriverSession>> {
                if (!d.usb_bus || !d.usb_address)
                    return fail(Errc::invalid_argument, "an MTP device must be on USB");
                return driver.open_at(*d.usb_bus, *d.usb_address, d.device.vendor_id,
                                      d.device.product_id, context);
            });
    }
    if (family == "adb") {
        // The kiosk's key stays in exhibitd: the AUTH token is signed there.
        return host::serve_device(
            host::kHostSocket,
            [&](const host::HostedDevice& d, const drivers::OpenContext& context) {
                return adb::open_hosted_adb(d, context,
                                            given_device ? UniqueFd(host::kDeviceFd) : UniqueFd{},
                                            host::kHostSocket,
                                            std::chrono::seconds(user_wait_seconds));
            },
            /*filter_first=*/given_device);
    }
    if (family == "ios") {
        auto options = ios::options_from_arguments(ios_arguments);
        if (!options)
            return usage(options.error().message);
        ios::IosDriver driver(*options);
        // Nothing of the phone is reached but through exhibitd: filtered before the request.
        return host::serve_device(
            host::kHostSocket,
            [&](const host::HostedDevice& d, const drivers::OpenContext& context) {
                return driver.open(d.device, context);
            },
            /*filter_first=*/true);
    }
    if (family == "storage") {
        if (!given_device)
            return usage("the storage family reads the disk exhibitd opened: --device-fd 4");
        storage::StorageDriver driver;
        return host::serve_device(
            host::kHostSocket,
            [&](const host::HostedDevice& d, const drivers::OpenContext& context) {
                return driver.open(UniqueFd(host::kDeviceFd), d.device, context);
            },
            /*filter_first=*/true);
    }
    return usage(fmt::format("no family \"{}\" in this driver host", family));
}
