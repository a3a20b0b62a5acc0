// USB string descriptors (UTF-16LE from the device) as UTF-8 that is safe in logs, the
// catalog and D-Bus. Pure functions; the device is untrusted input.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/error.hpp"

namespace exhibit::usb {

// Decodes a whole string descriptor (bLength, bDescriptorType 3, UTF-16LE code units).
// Errc::protocol if the header is wrong; unpaired surrogates become U+FFFD and control
// characters are dropped; leading and trailing spaces are trimmed.
Result<std::string> decode_string_descriptor(std::span<const std::uint8_t> bytes);

// The first language id of string descriptor 0 (0x0409 when the list is empty or bad).
std::uint16_t first_language(std::span<const std::uint8_t> bytes);

}  // namespace exhibit::usb
