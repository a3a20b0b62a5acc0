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
    // getprop: built-in defaults, then the records file, then what the command line gave.
    auto& props = p.identity.properties;
    props = {{"ro.product.manufacturer", "exhibit"},
             {"ro.product.brand", "exhibit"},
             {"ro.product.model", "Phonesim"},
             {"ro.product.name", "phonesim"},
             {"ro.product.device", "phonesim"},
             {"ro.serialno", "PHONESIM0001"},
             {"ro.build.version.release", "14"},
             {"ro.build.version.sdk", "34"},
             {"ro.build.fingerprint",
              "exhibit/phonesim/phonesim:14/UP1A.231005.007/1:user/release-keys"}};
    for (const auto& [k, v] : p.records.properties)
        props[k] = v;
    if (!s.manufacturer.empty())
        props["ro.product.manufacturer"] = props["ro.product.brand"] = s.manufacturer;
    if (!s.model.empty())
        props["ro.product.model"] = s.model;
    if (!s.serial.empty())
        props["ro.serialno"] = s.serial;
    props["ro.boot.serialno"] = props["ro.serialno"];
    // The CNXN banner says what getprop says.
    p.product = props["ro.product.name"];
    p.model = props["ro.product.model"];
    p.device = props["ro.product.device"];
    p.identity.clock_offset_seconds = s.clock_offset_seconds;
    return p;
}

}  // namespace exhibit::phonesim
