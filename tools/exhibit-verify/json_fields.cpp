#include "tools/exhibit-verify/json_fields.hpp"

namespace exhibit::verify {

const nlohmann::json& json_member(const nlohmann::json& obj, const char* key) {
    static const nlohmann::json kNull;
    if (!obj.is_object())
        return kNull;
    auto it = obj.find(key);
    return it == obj.end() ? kNull : *it;
}

std::string json_string(const nlohmann::json& obj, const char* key) {
    const auto& v = json_member(obj, key);
    return v.is_string() ? v.get<std::string>() : std::string();
}

std::optional<std::int64_t> json_int(const nlohmann::json& obj, const char* key) {
    const auto& v = json_member(obj, key);
    return v.is_number_integer() ? std::optional(v.get<std::int64_t>()) : std::nullopt;
}

bool is_sha256_hex(const std::string& text) {
    return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace exhibit::verify
