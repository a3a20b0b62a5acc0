// A hostile iPhone from a JSON file (exhibit-phonesim --usb --iphone --scenario FILE, or an
// iPhone's "scenario" in a phone list): the behaviours of IosHostile by name, each off unless
// given. docs/phonesim.md lists them. Unknown keys and wrong types are errors that name the key.
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "phonesim/ios/ios_settings.hpp"

namespace exhibit::phonesim::ios {

Result<IosHostile> parse_ios_scenario(const nlohmann::json& scenario);
Result<IosHostile> load_ios_scenario(const std::filesystem::path& file);

}  // namespace exhibit::phonesim::ios
