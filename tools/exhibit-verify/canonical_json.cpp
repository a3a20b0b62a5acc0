#include "canonical_json.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

namespace exhibit::verify {

namespace {

void write_string(const std::string& s, std::string& out) {
    out += '"';
    for (char c : s) {
        const auto b = static_cast<unsigned char>(c);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\r':
                out += "\\r";
                break;
            default:
                if (b < 0x20)
                    out += fmt::format("\\u{:04x}", b);
                else
                    out += c;
        }
    }
    out += '"';
}

Status write(const nlohmann::json& v, std::string& out, int depth) {
    if (depth > 64)
        return fail(Errc::invalid_argument, "nested deeper than 64 levels");
    switch (v.type()) {
        case nlohmann::json::value_t::null:
            out += "null";
            return {};
        case nlohmann::json::value_t::boolean:
            out += v.get<bool>() ? "true" : "false";
            return {};
        case nlohmann::json::value_t::number_integer:
            out += std::to_string(v.get<std::int64_t>());
            return {};
        case nlohmann::json::value_t::number_unsigned:
            out += std::to_string(v.get<std::uint64_t>());
            return {};
        case nlohmann::json::value_t::string:
            write_string(v.get_ref<const std::string&>(), out);
            return {};
        case nlohmann::json::value_t::array: {
            out += '[';
            bool first = true;
            for (const auto& e : v) {
                if (!first)
                    out += ',';
                first = false;
                if (auto s = write(e, out, depth + 1); !s)
                    return s;
            }
            out += ']';
            return {};
        }
        case nlohmann::json::value_t::object: {
            std::vector<const std::string*> keys;
            for (const auto& [key, value] : v.items())
                keys.push_back(&key);
            // std::string compares with char_traits<char>::compare, i.e. as unsigned bytes.
            std::ranges::sort(keys, [](const auto* a, const auto* b) { return *a < *b; });
            out += '{';
            for (std::size_t i = 0; i < keys.size(); ++i) {
                if (i > 0)
                    out += ',';
                write_string(*keys[i], out);
                out += ':';
                if (auto s = write(v.at(*keys[i]), out, depth + 1); !s)
                    return s;
            }
            out += '}';
            return {};
        }
        case nlohmann::json::value_t::number_float:
            return fail(Errc::invalid_argument, "a number that is not an integer");
        default:
            return fail(Errc::invalid_argument, "a value JSON text cannot hold");
    }
}

}  // namespace

Result<std::string> canonical_json(const nlohmann::json& value) {
    std::string out;
    if (auto s = write(value, out, 0); !s)
        return std::unexpected(s.error());
    return out;
}

}  // namespace exhibit::verify
