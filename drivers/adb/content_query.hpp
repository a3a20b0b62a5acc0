// Parses the output of Android's `content query --uri ... --projection a:b:c` (reference §7).
// Nothing in that output is escaped: a value may contain ", ", "=" or newlines. With a known
// projection, a field ends only where ", <next column>=" follows, and a line that does not
// start a new row continues the previous value. Pure functions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace exhibit::adb {

// One row: column -> value; SQL NULL (printed "NULL") is std::nullopt.
using ContentRow = std::map<std::string, std::optional<std::string>>;

// `columns` must be the projection passed to the command, in order.
Result<std::vector<ContentRow>> parse_content_query(std::string_view output,
                                                    const std::vector<std::string>& columns);

}  // namespace exhibit::adb
