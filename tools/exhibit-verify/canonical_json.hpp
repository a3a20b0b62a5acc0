// The canonical JSON of docs/manifest.md, written independently of the daemon's writer so
// that the DFU's check is a second implementation of the format: UTF-8, object members
// sorted by the bytes of their keys, no insignificant whitespace, integers only, strings
// escaping only " \ and the controls below U+0020 (\b \t \n \f \r, others as \u00xx in
// lowercase). Reentrant.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace exhibit::verify {

// The one canonical byte form of `value`; fails on floating-point numbers and binary values.
Result<std::string> canonical_json(const nlohmann::json& value);

}  // namespace exhibit::verify
