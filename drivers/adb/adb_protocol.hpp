// The ADB transport protocol ("aprotocol"): 24-byte message headers, commands, versions,
// payload limits and the CNXN banner. Pure functions, no I/O; shared by the host side
// (exhibitd's driver) and the device side (exhibit-phonesim).
// See ../shared/reference/adb-protocol.md §1-§2, §4.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace exhibit::adb {

inline constexpr std::uint32_t kCmdSync = 0x434E5953;
inline constexpr std::uint32_t kCmdCnxn = 0x4E584E43;
inline constexpr std::uint32_t kCmdOpen = 0x4E45504F;
inline constexpr std::uint32_t kCmdOkay = 0x59414B4F;
inline constexpr std::uint32_t kCmdClse = 0x45534C43;
inline constexpr std::uint32_t kCmdWrte = 0x45545257;
inline constexpr std::uint32_t kCmdAuth = 0x48545541;
inline constexpr std::uint32_t kCmdStls = 0x534C5453;

inline constexpr std::uint32_t kVersionMin = 0x01000000;
inline constexpr std::uint32_t kVersionSkipChecksum = 0x01000001;
inline constexpr std::uint32_t kVersion = kVersionSkipChecksum;

inline constexpr std::uint32_t kMaxPayloadV1 = 4096;
inline constexpr std::uint32_t kMaxPayload = 1024 * 1024;
// CNXN and AUTH travel before the payload size is negotiated.
inline constexpr std::uint32_t kMaxHandshakePayload = 4096;

inline constexpr std::uint32_t kAuthToken = 1;
inline constexpr std::uint32_t kAuthSignature = 2;
inline constexpr std::uint32_t kAuthRsaPublicKey = 3;
inline constexpr std::size_t kAuthTokenSize = 20;

inline constexpr std::size_t kHeaderSize = 24;

struct MessageHeader {
    std::uint32_t command = 0;
    std::uint32_t arg0 = 0;
    std::uint32_t arg1 = 0;
    std::uint32_t data_length = 0;
    std::uint32_t data_check = 0;
    std::uint32_t magic = 0;
};

struct Message {
    MessageHeader header;
    std::vector<std::byte> payload;

    std::uint32_t command() const { return header.command; }
    std::uint32_t arg0() const { return header.arg0; }
    std::uint32_t arg1() const { return header.arg1; }
    std::string_view payload_text() const {
        return {reinterpret_cast<const char*>(payload.data()), payload.size()};
    }
};

// The wrapping byte sum ADB calls data_check (it is not a CRC).
std::uint32_t payload_checksum(std::span<const std::byte> payload);

// Encodes a header for `payload`; data_check is filled when `version` still requires it.
std::array<std::byte, kHeaderSize> encode_header(std::uint32_t command, std::uint32_t arg0,
                                                 std::uint32_t arg1,
                                                 std::span<const std::byte> payload,
                                                 std::uint32_t version);

// Decodes and validates a header: magic, and data_length against `max_payload`.
Result<MessageHeader> decode_header(std::span<const std::byte, kHeaderSize> bytes,
                                    std::uint32_t max_payload);

// Checks data_check when the negotiated `version` still carries it.
Status check_payload(const MessageHeader& header, std::span<const std::byte> payload,
                     std::uint32_t version);

// "CNXN", "WRTE", ... or the hex value for an unknown command.
std::string command_name(std::uint32_t command);

// The banner of a CNXN: "<systemtype>:<serial>:<key=value;...;features=a,b>".
struct Banner {
    std::string system_type;  // "device", "host", "recovery", ...
    std::string serial;
    std::map<std::string, std::string> properties;  // ro.product.name, ro.product.model, ...
    std::set<std::string> features;
};

// Tolerant of old devices: trailing ';', trailing NULs, no features.
Result<Banner> parse_banner(std::string_view text);
std::string format_banner(const Banner& banner);

// Little-endian helpers for the sync and shell sub-protocols.
inline void put_u32(std::vector<std::byte>& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i)
        out.push_back(static_cast<std::byte>(v >> (8 * i)));
}
inline void put_u64(std::vector<std::byte>& out, std::uint64_t v) {
    for (int i = 0; i < 8; ++i)
        out.push_back(static_cast<std::byte>(v >> (8 * i)));
}
inline std::uint32_t get_u32(std::span<const std::byte> in, std::size_t off = 0) {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i)
        v = v << 8 | std::to_integer<std::uint32_t>(in[off + static_cast<std::size_t>(i)]);
    return v;
}
inline std::uint64_t get_u64(std::span<const std::byte> in, std::size_t off = 0) {
    return static_cast<std::uint64_t>(get_u32(in, off)) |
           static_cast<std::uint64_t>(get_u32(in, off + 4)) << 32;
}
inline std::span<const std::byte> as_bytes(std::string_view s) {
    return std::as_bytes(std::span(s));
}

}  // namespace exhibit::adb
