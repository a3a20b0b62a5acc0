// The officers file (kiosk.officers_file): who may sign in at the kiosk. One officer per line,
// tab-separated: "<id>\t<name>\t<PIN hash>"; lines starting with '#' are comments. Written only
// by exhibitd, atomically and with mode 0600; read on every sign-in, so a change made by
// `exhibitctl officer add` applies at once. Reentrant.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace exhibit::officers {

struct Officer {
    std::string id;        // what the officer types at the kiosk: 1 to 32 of [A-Za-z0-9._-]
    std::string name;      // shown on the kiosk and the receipt: up to 64 printable characters
    std::string pin_hash;  // pin_hash.hpp
};

bool is_valid_officer_id(std::string_view id);
// Valid UTF-8 is not checked here; no control characters (tabs, newlines) and at most 64 bytes.
bool is_valid_officer_name(std::string_view name);

// A missing file is an empty list. A malformed line is an error naming the file and the line.
Result<std::vector<Officer>> read_officers(const std::filesystem::path& file);
Status write_officers(const std::filesystem::path& file, const std::vector<Officer>& officers);

}  // namespace exhibit::officers
