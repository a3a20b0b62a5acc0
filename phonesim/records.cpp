#include "records.hpp"

#include <fmt/format.h>

#include "common/fs.hpp"

namespace exhibit::phonesim {

namespace {
Result<std::vector<nlohmann::ordered_json>> rows(const nlohmann::ordered_json& doc,
                                                 const char* key) {
    std::vector<nlohmann::ordered_json> out;
    if (!doc.contains(key))
        return out;
    if (!doc[key].is_array())
        return fail(Errc::invalid_argument, fmt::format("records: \"{}\" must be an array", key));
    for (const auto& row : doc[key]) {
        if (!row.is_object())
            return fail(Errc::invalid_argument,
                        fmt::format("records: every \"{}\" entry must be an object", key));
        out.push_back(row);
    }
    return out;
}

std::string render(const nlohmann::ordered_json& v) {
    if (v.is_null())
        return "NULL";
    if (v.is_string())
        return v.get<std::string>();
    if (v.is_boolean())
        return v.get<bool>() ? "1" : "0";
    return v.dump();
}
}  // namespace

Result<Records> parse_records(std::string_view json_text) {
    auto doc = nlohmann::ordered_json::parse(json_text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object())
        return fail(Errc::invalid_argument, "records: not a JSON object");
    Records r;
    if (doc.contains("properties")) {
        if (!doc["properties"].is_object())
            return fail(Errc::invalid_argument, "records: \"properties\" must be an object");
        for (const auto& [k, v] : doc["properties"].items())
            r.properties[k] = render(v);
    }
    for (auto [key, target] : {std::pair{"sms", &r.sms}, std::pair{"call_log", &r.call_log},
                               std::pair{"contacts", &r.contacts}}) {
        auto list = rows(doc, key);
        if (!list)
            return std::unexpected(list.error());
        *target = std::move(*list);
    }
    if (doc.contains("packages")) {
        if (!doc["packages"].is_array())
            return fail(Errc::invalid_argument, "records: \"packages\" must be an array");
        for (const auto& p : doc["packages"]) {
            if (!p.is_string())
                return fail(Errc::invalid_argument, "records: packages are strings");
            r.packages.push_back(p.get<std::string>());
        }
    }
    return r;
}

Result<Records> load_records(const std::filesystem::path& file) {
    auto text = fs::read_file(file, 256u << 20);
    if (!text)
        return std::unexpected(text.error());
    auto r = parse_records(*text);
    if (!r)
        return std::unexpected(
            Error{r.error().code, fmt::format("{}: {}", file.string(), r.error().message), 0});
    return r;
}

std::optional<std::string> content_query(const Records& records, std::string_view uri,
                                         const std::vector<std::string>& projection) {
    const std::vector<nlohmann::ordered_json>* table = nullptr;
    int sms_type = 0;  // 0: every message
    if (uri == "content://sms")
        table = &records.sms;
    else if (uri == "content://sms/inbox")
        table = &records.sms, sms_type = 1;
    else if (uri == "content://sms/sent")
        table = &records.sms, sms_type = 2;
    else if (uri == "content://call_log/calls")
        table = &records.call_log;
    else if (uri == "content://com.android.contacts/data")
        table = &records.contacts;
    else
        return std::nullopt;

    std::string out;
    std::size_t n = 0;
    for (const auto& row : *table) {
        if (sms_type != 0 && !(row.contains("type") && row["type"].is_number() &&
                               row["type"].get<int>() == sms_type))
            continue;
        std::string line = fmt::format("Row: {} ", n++);
        bool first = true;
        auto field = [&](const std::string& col, const nlohmann::ordered_json& v) {
            line += fmt::format("{}{}={}", first ? "" : ", ", col, render(v));
            first = false;
        };
        if (projection.empty()) {
            for (const auto& [col, v] : row.items())
                field(col, v);
        } else {
            for (const auto& col : projection)
                field(col, row.contains(col) ? row[col] : nlohmann::ordered_json());
        }
        out += line + "\n";
    }
    if (n == 0)
        return std::string("No result found.\n");
    return out;
}

}  // namespace exhibit::phonesim
