// Values as exhibitctl receives and sends them in a{sv} replies, properties and arguments
// (exhibit::Value, the shared codec's), with typed access that tolerates absent keys and
// other types (a newer or older daemon may add or lack one), and JSON. Reentrant.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/bus_value.hpp"

namespace exhibit::ctl {

std::string text_of(const ValueMap& map, const std::string& key);
std::uint64_t u64_of(const ValueMap& map, const std::string& key);  // also from x when >= 0
std::int64_t i64_of(const ValueMap& map, const std::string& key);   // also from t
double double_of(const ValueMap& map, const std::string& key);      // also from integers
bool bool_of(const ValueMap& map, const std::string& key);
std::vector<std::string> strings_of(const ValueMap& map, const std::string& key);

nlohmann::json to_json(const Value& value);
// The map as a JSON object, keys as they are.
nlohmann::json to_json(const ValueMap& map);

// Merges `changed` into `into` (a PropertiesChanged payload into known properties).
void merge(ValueMap& into, const ValueMap& changed);

}  // namespace exhibit::ctl
