#include "bus_message.hpp"

#include <cstring>

#include <fmt/format.h>

namespace exhibit::bus {

Error bus_error(int r, std::string_view what) {
    return Error{Errc::io, fmt::format("{}: {}", what, std::strerror(-r)), -r};
}

namespace {
Result<Value> read_variant(sd_bus_message* m, const std::string& key) {
    char type = 0;
    const char* contents = nullptr;
    int r = sd_bus_message_peek_type(m, &type, &contents);
    if (r < 0)
        return std::unexpected(bus_error(r, "bad message"));
    if (type != 'v' || !contents)
        return fail(Errc::invalid_argument, fmt::format("{}: expected a variant", key));
    std::string sig = contents;
    if ((r = sd_bus_message_enter_container(m, 'v', contents)) < 0)
        return std::unexpected(bus_error(r, "bad message"));
    Value v;
    if (sig == "s") {
        const char* s = nullptr;
        r = sd_bus_message_read_basic(m, 's', &s);
        v = std::string(s ? s : "");
    } else if (sig == "as") {
        char** strv = nullptr;
        r = sd_bus_message_read_strv(m, &strv);
        std::vector<std::string> out;
        for (char** p = strv; p && *p; ++p) {
            out.emplace_back(*p);
            free(*p);
        }
        free(strv);
        v = std::move(out);
    } else if (sig == "b") {
        int b = 0;
        r = sd_bus_message_read_basic(m, 'b', &b);
        v = b != 0;
    } else if (sig == "t" || sig == "u") {
        std::uint64_t t = 0;
        std::uint32_t u = 0;
        r = sig == "t" ? sd_bus_message_read_basic(m, 't', &t)
                       : sd_bus_message_read_basic(m, 'u', &u);
        v = sig == "t" ? t : std::uint64_t{u};
    } else if (sig == "x" || sig == "i") {
        std::int64_t x = 0;
        std::int32_t i = 0;
        r = sig == "x" ? sd_bus_message_read_basic(m, 'x', &x)
                       : sd_bus_message_read_basic(m, 'i', &i);
        v = sig == "x" ? x : std::int64_t{i};
    } else {
        return fail(Errc::invalid_argument,
                    fmt::format("{}: values of type {} are not accepted", key, sig));
    }
    if (r < 0)
        return std::unexpected(bus_error(r, "bad message"));
    if ((r = sd_bus_message_exit_container(m)) < 0)
        return std::unexpected(bus_error(r, "bad message"));
    return v;
}
}  // namespace

Result<ValueMap> read_value_map(sd_bus_message* m) {
    ValueMap map;
    int r = sd_bus_message_enter_container(m, 'a', "{sv}");
    if (r < 0)
        return std::unexpected(bus_error(r, "expected a{sv}"));
    for (;;) {
        r = sd_bus_message_enter_container(m, 'e', "sv");
        if (r < 0)
            return std::unexpected(bus_error(r, "bad a{sv}"));
        if (r == 0)
            break;
        const char* key = nullptr;
        if ((r = sd_bus_message_read_basic(m, 's', &key)) < 0)
            return std::unexpected(bus_error(r, "bad a{sv}"));
        std::string k = key ? key : "";
        auto v = read_variant(m, k);
        if (!v)
            return std::unexpected(v.error());
        map[k] = std::move(*v);
        if ((r = sd_bus_message_exit_container(m)) < 0)
            return std::unexpected(bus_error(r, "bad a{sv}"));
    }
    if ((r = sd_bus_message_exit_container(m)) < 0)
        return std::unexpected(bus_error(r, "bad a{sv}"));
    return map;
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

Status read_no_options(sd_bus_message* m) {
    auto options = read_value_map(m);
    if (!options)
        return std::unexpected(options.error());
    return only_keys(*options, {}, "options");
}

std::string admin_actor(sd_bus_message* m) {
    sd_bus_creds* c = nullptr;
    uid_t uid = 0;
    if (sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID | SD_BUS_CREDS_AUGMENT, &c) >= 0)
        sd_bus_creds_get_euid(c, &uid);
    sd_bus_creds_unref(c);
    return fmt::format("admin:{}", uid);
}

}  // namespace exhibit::bus
