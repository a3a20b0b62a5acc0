#include "phonesim/ios/ios_scenario.hpp"

#include <fstream>

#include <fmt/format.h>

namespace exhibit::phonesim::ios {

namespace {

using nlohmann::json;

Error bad(std::string_view key, std::string_view expected) {
    return Error{Errc::invalid_argument,
                 fmt::format("iPhone scenario: \"{}\" must be {}", key, expected), 0};
}

// A path below the media root, as AFC names it: relative, without "..".
Result<std::string> afc_path(const json& value, std::string_view key) {
    if (!value.is_string() || value.get<std::string>().empty())
        return std::unexpected(bad(key, "a path below the media folder"));
    const auto path = value.get<std::string>();
    if (path.front() == '/' || path == ".." || path.starts_with("../") ||
        path.find("/../") != std::string::npos || path.ends_with("/.."))
        return std::unexpected(bad(key, "a path below the media folder, without \"..\""));
    return path;
}

Result<std::uint64_t> count(const json& value, std::string_view key, std::uint64_t least) {
    if (!value.is_number_unsigned() || value.get<std::uint64_t>() < least)
        return std::unexpected(bad(key, fmt::format("a whole number from {}", least)));
    return value.get<std::uint64_t>();
}

}  // namespace

Result<IosHostile> parse_ios_scenario(const json& scenario) {
    if (!scenario.is_object())
        return fail(Errc::invalid_argument, "iPhone scenario: expected a JSON object");
    IosHostile h;
    for (const auto& [key, value] : scenario.items()) {
        if (key == "lying_size") {
            if (!value.is_object() || !value.contains("path"))
                return std::unexpected(bad(key, "{\"path\": ..., \"delta\": N}"));
            LyingSize lie;
            auto path = afc_path(value["path"], "lying_size.path");
            if (!path)
                return std::unexpected(path.error());
            lie.path = *path;
            for (const auto& [k, v] : value.items()) {
                if (k == "delta") {
                    if (!v.is_number_integer())
                        return std::unexpected(bad("lying_size.delta", "a whole number"));
                    lie.delta = v.get<std::int64_t>();
                } else if (k != "path") {
                    return fail(Errc::invalid_argument,
                                fmt::format("iPhone scenario: unknown key \"lying_size.{}\"", k));
                }
            }
            h.lying_size = std::move(lie);
        } else if (key == "endless_dir" || key == "evil_names_dir") {
            auto path = afc_path(value, key);
            if (!path)
                return std::unexpected(path.error());
            (key == "endless_dir" ? h.endless_dir : h.evil_names_dir) = *path;
        } else if (key == "endless_step") {
            auto n = count(value, key, 1);
            if (!n || *n > 1'000'000)
                return std::unexpected(bad(key, "a whole number from 1 to 1000000"));
            h.endless_step = static_cast<std::uint32_t>(*n);
        } else if (key == "stall_after") {
            auto n = count(value, key, 0);
            if (!n)
                return std::unexpected(n.error());
            h.stall_after = *n;
        } else if (key == "malformed_lockdown_reply") {
            if (!value.is_boolean())
                return std::unexpected(bad(key, "true or false"));
            h.malformed_lockdown_reply = value.get<bool>();
        } else if (key == "malformed_afc") {
            const auto kind = value.is_string() ? value.get<std::string>() : std::string();
            if (kind == "bad_magic")
                h.malformed_afc = MalformedAfc::bad_magic;
            else if (kind == "this_beyond_entire")
                h.malformed_afc = MalformedAfc::this_beyond_entire;
            else
                return std::unexpected(bad(key, "\"bad_magic\" or \"this_beyond_entire\""));
        } else if (key == "malformed_afc_at") {
            auto n = count(value, key, 1);
            if (!n)
                return std::unexpected(n.error());
            h.malformed_afc_at = *n;
        } else {
            return fail(Errc::invalid_argument,
                        fmt::format("iPhone scenario: unknown key \"{}\"", key));
        }
    }
    return h;
}

Result<IosHostile> load_ios_scenario(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in)
        return fail(Errc::not_found,
                    fmt::format("cannot read the iPhone scenario {}", file.string()));
    auto scenario = json::parse(in, nullptr, false);
    if (scenario.is_discarded())
        return fail(Errc::invalid_argument,
                    fmt::format("the iPhone scenario {} is not JSON", file.string()));
    auto h = parse_ios_scenario(scenario);
    if (!h)
        return std::unexpected(h.error().with_context(file.string()));
    return h;
}

}  // namespace exhibit::phonesim::ios
