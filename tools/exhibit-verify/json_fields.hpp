// Reading fields of JSON that arrived from elsewhere (a manifest, a heartbeat, a tus info
// file): never nlohmann's operator[] on a const document (undefined for a missing key) nor its
// value() (which throws when the type differs). A missing or mistyped field reads as absent.
// Reentrant.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace exhibit::verify {

// The value at `key` of `obj`, or null when `obj` is not an object or has no such key.
const nlohmann::json& json_member(const nlohmann::json& obj, const char* key);
// The text at `key` of `obj`, or "" when it is missing or not text.
std::string json_string(const nlohmann::json& obj, const char* key);
// The integer at `key` of `obj`, or nullopt when it is missing or not an integer.
std::optional<std::int64_t> json_int(const nlohmann::json& obj, const char* key);
// Whether `text` is a SHA-256 as exhibit writes one: 64 lower-case hex digits.
bool is_sha256_hex(const std::string& text);

}  // namespace exhibit::verify
