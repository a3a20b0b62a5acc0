#include "phone_setup.hpp"

#include <fmt/format.h>

#include "phonesim/scenario.hpp"

namespace exhibit::phonesim {

Result<PhoneOptions> make_phone(const PhoneSettings& s) {
    PhoneOptions p;
    if (s.root.empty() || !std::filesystem::is_directory(s.root))
        return fail(Errc::invalid_argument,
                    fmt::format("--root {}: not a directory", s.root.string()));
    p.root = s.root;
    if (!s.records.empty()) {
        auto r = load_records(s.records);
        if (!r)
            return std::unexpected(r.error());
        p.records = std::move(*r);
    }
    if (!s.scenario.empty()) {
        auto sc = load_scenario(s.scenario);
        if (!sc)
            return std::unexpected(sc.error());
        p.scenario = std::make_shared<Scenario>(std::move(*sc));
    }
    if (s.auth != "none" && s.auth != "require")
        return fail(Errc::invalid_argument, "--auth must be \"none\" or \"require\"");
    p.require_auth = s.auth == "require";
    auto keys = AuthKeys::load(s.adb_keys, s.accept_new_keys);
    if (!keys)
        return std::unexpected(keys.error());
    p.keys = *keys;
    p.model = s.model;
    p.product = p.device = "phonesim";
    // getprop: sensible defaults, then the records file, then the command line.
    auto& props = p.identity.properties;
    props = {{"ro.product.manufacturer", s.manufacturer},
             {"ro.product.brand", s.manufacturer},
             {"ro.product.name", "phonesim"},
             {"ro.product.device", "phonesim"},
             {"ro.build.version.release", "14"},
             {"ro.build.version.sdk", "34"},
             {"ro.build.fingerprint",
              "exhibit/phonesim/phonesim:14/UP1A.231005.007/1:user/release-keys"}};
    for (const auto& [k, v] : p.records.properties)
        props[k] = v;
    props["ro.product.model"] = s.model;
    props["ro.serialno"] = s.serial;
    props["ro.boot.serialno"] = s.serial;
    p.identity.clock_offset_seconds = s.clock_offset_seconds;
    return p;
}

}  // namespace exhibit::phonesim
