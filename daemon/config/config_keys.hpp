// Internal to exhibit_config: the table of known sections and keys, and how each TOML value
// becomes a Config member. Reentrant (the tables are constant).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "daemon/config/config.hpp"

namespace exhibit::config::detail {

// One thing wrong with a document, at a position in it (line 0 when unknown).
struct Problem {
    std::uint32_t line = 0;
    std::uint32_t column = 0;
    std::string message;  // without the file and line, e.g. `unknown key "store.x"`
};

// Applies every table and key of `doc` onto `out`; each unknown table or key and each bad
// value appends a Problem (and leaves `out` unchanged for that key).
void apply_document(const toml::table& doc, Config& out, std::vector<Problem>& problems);

// Every accepted key as "table.key", in documentation order.
std::vector<std::string> key_names();
// The keys whose values differ between `a` and `b`, in documentation order.
std::vector<std::string> changed_keys(const Config& a, const Config& b);

// 1 to 64 characters of [A-Za-z0-9._-].
bool is_valid_kiosk_id(std::string_view id);

}  // namespace exhibit::config::detail
