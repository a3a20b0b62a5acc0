// Values as exhibitctl receives and sends them in a{sv} arguments and properties, with typed
// access that tolerates absent keys (a newer or older daemon may add or lack one).
// Reentrant.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace exhibit::ctl {

using Value =
    std::variant<std::string, std::vector<std::string>, bool, std::uint64_t, std::int64_t, double>;
using ValueMap = std::map<std::string, Value>;

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
