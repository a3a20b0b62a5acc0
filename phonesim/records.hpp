// What the simulated phone knows besides its files: properties, SMS, call log, contacts and
// installed packages, loaded from --records FILE (docs/phonesim.md documents the format).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace exhibit::phonesim {

struct Records {
    std::map<std::string, std::string> properties;
    // Rows keep their column order (the order of keys in the file).
    std::vector<nlohmann::ordered_json> sms;
    std::vector<nlohmann::ordered_json> call_log;
    std::vector<nlohmann::ordered_json> contacts;
    std::vector<std::string> packages;
};

Result<Records> load_records(const std::filesystem::path& file);
Result<Records> parse_records(std::string_view json_text);

// The output of `content query --uri URI [--projection a:b:c]` over these records, exactly as
// Android prints it (values unescaped), or nullopt for an unknown URI.
std::optional<std::string> content_query(const Records& records, std::string_view uri,
                                         const std::vector<std::string>& projection);

}  // namespace exhibit::phonesim
