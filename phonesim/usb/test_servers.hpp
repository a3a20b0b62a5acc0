// Simple device-side servers for the emulated ADB interface, for tests and the bulk
// throughput benchmark. Both speak ADB's framing (24-byte header, data_length at offset 12)
// but no ADB protocol.
#pragma once

#include <cstdint>
#include <span>

#include "phonesim/usb/emulated_device.hpp"

namespace exhibit::usbsim {

// Sends every message it receives back unchanged.
AdbServer echo_server();

// On a message whose command is kStreamRequest (arg0: payload size per message, arg1: total
// MiB) it streams that many bytes as messages with command kStreamData, each payload filled
// with stream_pattern; other messages are echoed.
inline constexpr std::uint32_t kStreamRequest = 0x4c4c5550;  // "PULL"
inline constexpr std::uint32_t kStreamData = 0x41544144;     // "DATA"
AdbServer stream_server();

// The stream's bytes at `offset`: each 8-byte word holds its own offset (little endian).
void stream_pattern(std::uint64_t offset, std::span<std::byte> out);

}  // namespace exhibit::usbsim
