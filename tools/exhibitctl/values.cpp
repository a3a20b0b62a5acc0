#include "values.hpp"

namespace exhibit::ctl {

namespace {
const Value* find(const ValueMap& map, const std::string& key) {
    auto it = map.find(key);
    return it == map.end() ? nullptr : &it->second;
}
}  // namespace

std::string text_of(const ValueMap& map, const std::string& key) {
    return get_string(map, key, /*required=*/false).value_or(std::string());
}

std::uint64_t u64_of(const ValueMap& map, const std::string& key) {
    const auto* v = find(map, key);
    if (!v)
        return 0;
    if (const auto* t = std::get_if<std::uint64_t>(v))
        return *t;
    if (const auto* x = std::get_if<std::int64_t>(v))
        return *x > 0 ? static_cast<std::uint64_t>(*x) : 0;
    return 0;
}

std::int64_t i64_of(const ValueMap& map, const std::string& key) {
    const auto* v = find(map, key);
    if (!v)
        return 0;
    if (const auto* x = std::get_if<std::int64_t>(v))
        return *x;
    if (const auto* t = std::get_if<std::uint64_t>(v))
        return static_cast<std::int64_t>(*t);
    return 0;
}

double double_of(const ValueMap& map, const std::string& key) {
    const auto* v = find(map, key);
    if (!v)
        return 0;
    if (const auto* d = std::get_if<double>(v))
        return *d;
    if (const auto* t = std::get_if<std::uint64_t>(v))
        return static_cast<double>(*t);
    if (const auto* x = std::get_if<std::int64_t>(v))
        return static_cast<double>(*x);
    return 0;
}

bool bool_of(const ValueMap& map, const std::string& key) {
    const auto* v = find(map, key);
    const auto* b = v ? std::get_if<bool>(v) : nullptr;
    return b && *b;
}

std::vector<std::string> strings_of(const ValueMap& map, const std::string& key) {
    return get_strings(map, key).value_or(std::vector<std::string>());
}

nlohmann::json to_json(const Value& value) {
    return std::visit([](const auto& v) { return nlohmann::json(v); }, value);
}

nlohmann::json to_json(const ValueMap& map) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, value] : map)
        out[key] = to_json(value);
    return out;
}

void merge(ValueMap& into, const ValueMap& changed) {
    for (const auto& [key, value] : changed)
        into[key] = value;
}

}  // namespace exhibit::ctl
