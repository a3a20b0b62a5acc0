#include "common/bus_value.hpp"

#include <cstring>
#include <optional>
#include <type_traits>

#include <fmt/format.h>

namespace exhibit {

Error bus_error(int r, std::string_view what) {
    return Error{Errc::io, fmt::format("{}: {}", what, std::strerror(-r)), -r};
}

namespace {

constexpr std::string_view kBadMessage = "bad message";

std::unexpected<Error> bus_fail(int r, std::string_view what) {
    return std::unexpected(bus_error(r, what));
}

// The types a caller may send (Reading::arguments).
bool argument_type(std::string_view signature) {
    for (std::string_view accepted : {"s", "as", "b", "t", "u", "x", "i"})
        if (signature == accepted)
            return true;
    return false;
}

// A basic value of D-Bus type `type`, read as `Raw` and kept as `Kept`.
template <class Raw, class Kept>
Result<Value> read_basic(sd_bus_message* m, char type) {
    Raw raw{};
    if (int r = sd_bus_message_read_basic(m, type, &raw); r < 0)
        return bus_fail(r, kBadMessage);
    if constexpr (std::is_same_v<Raw, const char*>)
        return Value(std::string(raw ? raw : ""));
    else
        return Value(static_cast<Kept>(raw));
}

// An array of strings (s) or object paths (o).
Result<Value> read_strings(sd_bus_message* m, char type) {
    const char contents[2] = {type, '\0'};
    int r = sd_bus_message_enter_container(m, 'a', contents);
    if (r < 0)
        return bus_fail(r, kBadMessage);
    std::vector<std::string> out;
    const char* s = nullptr;
    while ((r = sd_bus_message_read_basic(m, type, &s)) > 0)
        out.emplace_back(s ? s : "");
    if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0)
        return bus_fail(r, kBadMessage);
    return Value(std::move(out));
}

// The contents of a variant of `signature` (entered); nullopt for a type exhibit does not read.
std::optional<Result<Value>> read_contents(sd_bus_message* m, std::string_view signature) {
    if (signature == "as" || signature == "ao")
        return read_strings(m, signature[1]);
    if (signature.size() != 1)
        return std::nullopt;
    const char type = signature[0];
    switch (type) {
        case 's':
        case 'o':
        case 'g':
            return read_basic<const char*, std::string>(m, type);
        case 'b':
            return read_basic<int, bool>(m, type);  // 'b' travels as an int in sd-bus
        case 'y':
            return read_basic<std::uint8_t, std::uint64_t>(m, type);
        case 'q':
            return read_basic<std::uint16_t, std::uint64_t>(m, type);
        case 'u':
            return read_basic<std::uint32_t, std::uint64_t>(m, type);
        case 't':
            return read_basic<std::uint64_t, std::uint64_t>(m, type);
        case 'n':
            return read_basic<std::int16_t, std::int64_t>(m, type);
        case 'i':
            return read_basic<std::int32_t, std::int64_t>(m, type);
        case 'x':
            return read_basic<std::int64_t, std::int64_t>(m, type);
        case 'd':
            return read_basic<double, double>(m, type);
        default:
            return std::nullopt;
    }
}

// The variant at the read position, value of `key`; nullopt when skipped (Reading::replies).
Result<std::optional<Value>> read_variant(sd_bus_message* m, const std::string& key,
                                          Reading reading) {
    char type = 0;
    const char* contents = nullptr;
    int r = sd_bus_message_peek_type(m, &type, &contents);
    if (r < 0)
        return bus_fail(r, kBadMessage);
    if (type != 'v' || !contents)
        return fail(Errc::invalid_argument, fmt::format("{}: expected a variant", key));
    const std::string signature = contents;
    if (reading == Reading::arguments && !argument_type(signature))
        return fail(Errc::invalid_argument,
                    fmt::format("{}: values of type {} are not accepted", key, signature));
    if ((r = sd_bus_message_enter_container(m, 'v', signature.c_str())) < 0)
        return bus_fail(r, kBadMessage);
    std::optional<Value> value;
    if (auto read = read_contents(m, signature); !read)
        r = sd_bus_message_skip(m, signature.c_str());
    else if (!*read)
        return std::unexpected(read->error());
    else
        value = std::move(**read);
    if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0)
        return bus_fail(r, kBadMessage);
    return value;
}

int append_variant(sd_bus_message* m, const Value& value) {
    if (const auto* s = std::get_if<std::string>(&value))
        return sd_bus_message_append(m, "v", "s", s->c_str());
    if (const auto* b = std::get_if<bool>(&value))
        return sd_bus_message_append(m, "v", "b", static_cast<int>(*b));
    if (const auto* t = std::get_if<std::uint64_t>(&value))
        return sd_bus_message_append(m, "v", "t", *t);
    if (const auto* x = std::get_if<std::int64_t>(&value))
        return sd_bus_message_append(m, "v", "x", *x);
    if (const auto* d = std::get_if<double>(&value))
        return sd_bus_message_append(m, "v", "d", *d);
    const auto& list = std::get<std::vector<std::string>>(value);
    int r = sd_bus_message_open_container(m, 'v', "as");
    if (r >= 0)
        r = sd_bus_message_open_container(m, 'a', "s");
    for (std::size_t i = 0; r >= 0 && i < list.size(); ++i)
        r = sd_bus_message_append_basic(m, 's', list[i].c_str());
    for (int level = 0; r >= 0 && level < 2; ++level)  // a, v
        r = sd_bus_message_close_container(m);
    return r;
}

int append_entry(sd_bus_message* m, const std::string& key, const Value& value) {
    int r = sd_bus_message_open_container(m, 'e', "sv");
    if (r >= 0)
        r = sd_bus_message_append_basic(m, 's', key.c_str());
    if (r >= 0)
        r = append_variant(m, value);
    return r < 0 ? r : sd_bus_message_close_container(m);
}

}  // namespace

Result<ValueMap> read_value_map(sd_bus_message* m, Reading reading) {
    ValueMap map;
    int r = sd_bus_message_enter_container(m, 'a', "{sv}");
    if (r < 0)
        return bus_fail(r, "expected a{sv}");
    for (;;) {
        r = sd_bus_message_enter_container(m, 'e', "sv");
        if (r < 0)
            return bus_fail(r, "bad a{sv}");
        if (r == 0)
            break;
        const char* key = nullptr;
        if ((r = sd_bus_message_read_basic(m, 's', &key)) < 0)
            return bus_fail(r, "bad a{sv}");
        std::string k = key ? key : "";
        auto value = read_variant(m, k, reading);
        if (!value)
            return std::unexpected(value.error());
        if (*value)
            map[std::move(k)] = std::move(**value);
        if ((r = sd_bus_message_exit_container(m)) < 0)
            return bus_fail(r, "bad a{sv}");
    }
    if ((r = sd_bus_message_exit_container(m)) < 0)
        return bus_fail(r, "bad a{sv}");
    return map;
}

int append_value_map(sd_bus_message* m, const ValueMap& map) {
    int r = sd_bus_message_open_container(m, 'a', "{sv}");
    for (auto it = map.begin(); r >= 0 && it != map.end(); ++it)
        r = append_entry(m, it->first, it->second);
    return r < 0 ? r : sd_bus_message_close_container(m);
}

Result<std::string> get_string(const ValueMap& map, const std::string& key, bool required) {
    auto it = map.find(key);
    if (it == map.end()) {
        if (required)
            return fail(Errc::invalid_argument, fmt::format("\"{}\" is required", key));
        return std::string();
    }
    if (auto* s = std::get_if<std::string>(&it->second))
        return *s;
    return fail(Errc::invalid_argument, fmt::format("\"{}\" must be a string", key));
}

Result<std::vector<std::string>> get_strings(const ValueMap& map, const std::string& key) {
    auto it = map.find(key);
    if (it == map.end())
        return std::vector<std::string>{};
    if (auto* s = std::get_if<std::vector<std::string>>(&it->second))
        return *s;
    return fail(Errc::invalid_argument, fmt::format("\"{}\" must be a list of strings", key));
}

Status only_keys(const ValueMap& map, std::initializer_list<std::string_view> allowed,
                 std::string_view what) {
    for (const auto& [key, value] : map) {
        bool known = false;
        for (auto a : allowed)
            known = known || a == key;
        if (!known)
            return fail(Errc::invalid_argument, fmt::format("{}: unknown key \"{}\"", what, key));
    }
    return {};
}

}  // namespace exhibit
