// The ADB family in the driver host (drivers/host/README.md): both sides of it. exhibitd
// registers hosted_adb_driver(); exhibit-driver-host opens the phone with open_hosted_adb().
//
// Where the phone's bytes are first read, and what the child holds:
// - a phone on the network: exhibitd connects ("tcp:HOST:PORT") and gives the child only the
//   connected socket (kDeviceFd); the child loads its system call filter before it reads the
//   request or a byte of the phone;
// - a phone on USB: the child finds it by bus and address and claims its ADB interface with
//   libusb (this needs the USB file system), then loads the filter before the CNXN/AUTH
//   handshake, the first bytes the phone chooses;
// - the kiosk's ADB key stays in exhibitd: the child asks exhibitd to sign the phone's
//   20-byte AUTH token, once, and for the public key to offer, once (`sign`, `offer_key`).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>

#include "common/unique_fd.hpp"
#include "drivers/adb/adb_driver.hpp"
#include "drivers/host/host_protocol.hpp"

namespace exhibit::adb {

// The child's data limit: one record query's output (ExtractorLimits::max_record_output,
// 256 MiB) and the rows parsed from it fit; a phone that makes it grow further ends the child.
inline constexpr std::uint64_t kHostedAdbMemory = 1ull << 30;

struct HostedAdbOptions {
    std::filesystem::path program;                // exhibit-driver-host
    std::shared_ptr<const AdbHostKey> host_key;   // stays in exhibitd
    std::chrono::seconds user_wait{std::chrono::minutes(2)};
    std::chrono::milliseconds tcp_connect_timeout{10'000};
};

// exhibitd's side: the ADB family as a HostedDriver.
std::unique_ptr<drivers::Driver> hosted_adb_driver(HostedAdbOptions options);

// The child's side: opens the phone exhibitd named, on `link` (the socket exhibitd connected)
// when it is given, otherwise on USB at the device's bus and address; the filter is in
// place before the handshake. The AUTH token is signed by exhibitd over `host_socket`.
Result<std::unique_ptr<drivers::DriverSession>> open_hosted_adb(
    const host::HostedDevice& device, const drivers::OpenContext& context, UniqueFd link,
    int host_socket, std::chrono::seconds user_wait);

}  // namespace exhibit::adb
