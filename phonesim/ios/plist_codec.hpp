// Property lists as lockdownd and usbmuxd exchange them (libplist 2.2): the owner of a
// plist_t, parsing what a host sends (XML or binary), the XML the device answers, typed
// reads of dictionary entries, and lockdownd's framing (4-byte big-endian length + plist).
// Reentrant.
#pragma once

#include <plist/plist.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/c_handle.hpp"
#include "common/error.hpp"
#include "phonesim/ios/service_host.hpp"

namespace exhibit::phonesim::ios {

using PlistPtr = CHandle<void, plist_free>;

// The largest lockdownd or usbmuxd message the device accepts from a host.
inline constexpr std::uint32_t kMaxPlistMessage = 1u << 20;

// XML or binary; an error when `bytes` are neither or not a dictionary.
Result<PlistPtr> parse_plist_dict(std::span<const std::byte> bytes);
std::vector<std::byte> plist_to_xml_bytes(plist_t node);

std::optional<std::string> dict_string(plist_t dict, const char* key);
std::optional<std::vector<std::byte>> dict_data(plist_t dict, const char* key);
std::optional<std::uint64_t> dict_uint(plist_t dict, const char* key);
plist_t dict_dict(plist_t dict, const char* key);  // borrowed; null when absent or no dict

void set_string(plist_t dict, const char* key, std::string_view value);
void set_data(plist_t dict, const char* key, std::span<const std::byte> value);
void set_uint(plist_t dict, const char* key, std::uint64_t value);
void set_bool(plist_t dict, const char* key, bool value);

// Exactly buffer.size() bytes; false when the host closed first.
Result<bool> read_exact(Stream& stream, std::span<std::byte> buffer);

// One lockdownd message; nullopt when the host closed between messages.
Result<std::optional<PlistPtr>> read_lockdown_message(Stream& stream);
Status write_lockdown_message(Stream& stream, plist_t dict);
// A message body sent as is (the malformed-reply hostile behaviour).
Status write_lockdown_raw(Stream& stream, std::span<const std::byte> body);

inline std::span<const std::byte> as_bytes(std::string_view s) {
    return std::as_bytes(std::span(s.data(), s.size()));
}

}  // namespace exhibit::phonesim::ios
