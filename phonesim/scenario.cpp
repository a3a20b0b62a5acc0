#include "scenario.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/fs.hpp"
#include "common/sha256.hpp"

namespace exhibit::phonesim {

Result<Scenario> parse_scenario(std::string_view json_text) {
    auto doc = nlohmann::json::parse(json_text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("rules") ||
        !doc["rules"].is_array())
        return fail(Errc::invalid_argument, "scenario: expected {\"rules\": [...]}");
    Scenario s;
    for (const auto& rule : doc["rules"]) {
        if (!rule.is_object() || !rule.contains("path") || !rule["path"].is_string() ||
            !rule.contains("action") || !rule["action"].is_string())
            return fail(Errc::invalid_argument,
                        "scenario: every rule needs a \"path\" and an \"action\"");
        auto path = rule["path"].get<std::string>();
        auto action = rule["action"].get<std::string>();
        auto bytes = [&](const char* key) -> Result<std::uint64_t> {
            if (!rule.contains(key) || !rule[key].is_number_unsigned())
                return fail(Errc::invalid_argument,
                            fmt::format("scenario: {} needs \"{}\" (a number)", action, key));
            return rule[key].get<std::uint64_t>();
        };
        if (action == "inject_names") {
            // Lists of strings only: anything else would throw inside nlohmann::json.
            auto strings = [&](const char* key) {
                auto v = rule.value(key, nlohmann::json::array());
                return v.is_array() &&
                       std::all_of(v.begin(), v.end(), [](const auto& e) { return e.is_string(); });
            };
            if (!strings("names") || !strings("names_hex") || !strings("names_utf16_hex"))
                return fail(Errc::invalid_argument,
                            "scenario: names, names_hex and names_utf16_hex must be lists of "
                            "strings");
            for (const auto& h : rule.value("names_utf16_hex", nlohmann::json::array())) {
                std::string hex;
                for (char c : h.get<std::string>())
                    if (c != ' ')
                        hex.push_back(c);
                auto raw = from_hex(hex);
                if (!raw || raw->size() % 2 != 0)
                    return fail(Errc::invalid_argument,
                                "scenario: names_utf16_hex must be 4-digit hex code units");
                std::u16string name;
                for (std::size_t i = 0; i < raw->size(); i += 2)
                    name.push_back(
                        static_cast<char16_t>((std::to_integer<unsigned>((*raw)[i]) << 8) |
                                              std::to_integer<unsigned>((*raw)[i + 1])));
                s.injected_utf16_names[path].push_back(std::move(name));
            }
            auto& names = s.injected_names[path];
            for (const auto& n : rule.value("names", nlohmann::json::array()))
                names.push_back(n.get<std::string>());
            for (const auto& h : rule.value("names_hex", nlohmann::json::array())) {
                std::string hex;
                for (char c : h.get<std::string>())
                    if (c != ' ')
                        hex.push_back(c);
                auto raw = from_hex(hex);
                if (!raw)
                    return fail(Errc::invalid_argument, "scenario: names_hex must be hex bytes");
                names.emplace_back(reinterpret_cast<const char*>(raw->data()), raw->size());
            }
        } else if (action == "declare_size") {
            auto b = bytes("size");
            if (!b)
                return std::unexpected(b.error());
            s.declared_size[path] = *b;
        } else if (action == "stall_after" || action == "disconnect_after") {
            auto b = bytes("bytes");
            if (!b)
                return std::unexpected(b.error());
            (action == "stall_after" ? s.stall_after : s.disconnect_after)[path] = *b;
        } else if (action == "list_forever") {
            s.list_forever.insert(path);
        } else if (action == "oversized_message") {
            s.oversized_message.insert(path);
        } else if (action == "bad_magic") {
            s.bad_magic.insert(path);
        } else if (action == "malformed_container") {
            MalformedContainer m;
            std::string kind = "length";
            if (rule.contains("kind"))
                kind = rule["kind"].is_string() ? rule["kind"].get<std::string>() : "";
            if (kind == "type")
                m.kind = MalformedContainer::Kind::type;
            else if (kind == "transaction")
                m.kind = MalformedContainer::Kind::transaction;
            else if (kind != "length")
                return fail(Errc::invalid_argument,
                            "scenario: malformed_container kind is length, type or transaction");
            if (rule.contains("length")) {
                auto b = bytes("length");
                if (!b || *b > 0xffffffffu)
                    return fail(Errc::invalid_argument,
                                "scenario: malformed_container length is a 32-bit number");
                m.length = static_cast<std::uint32_t>(*b);
            }
            s.malformed_container[path] = m;
        } else if (action == "parent_loop") {
            s.parent_loop.insert(path);
        } else {
            return fail(Errc::invalid_argument,
                        fmt::format("scenario: unknown action \"{}\"", action));
        }
    }
    return s;
}

Result<Scenario> load_scenario(const std::filesystem::path& file) {
    auto text = fs::read_file(file, 16 << 20);
    if (!text)
        return std::unexpected(text.error());
    auto s = parse_scenario(*text);
    if (!s)
        return std::unexpected(
            Error{s.error().code, fmt::format("{}: {}", file.string(), s.error().message), 0});
    return s;
}

}  // namespace exhibit::phonesim
