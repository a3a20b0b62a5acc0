#include "tus_store.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/base64.hpp"
#include "common/fs.hpp"
#include "tools/exhibit-verify/json_fields.hpp"

namespace exhibit::verify {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxInfoBytes = 1 << 20;

std::optional<std::uint64_t> size_field(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer() || it->get<std::int64_t>() < 0)
        return std::nullopt;
    return it->get<std::uint64_t>();
}

// One info file as an upload, or nullopt when it is not a tus info file.
std::optional<StoredUpload> read_info(const fs::path& info) {
    auto text = exhibit::fs::read_file(info, kMaxInfoBytes);
    if (!text)
        return std::nullopt;
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (!j.is_object())
        return std::nullopt;
    const bool tusd = info.extension() == ".info";
    const char* meta_key = tusd ? "MetaData" : "metadata";
    if (!j.contains(meta_key) || !j.contains(tusd ? "ID" : "id"))
        return std::nullopt;
    StoredUpload u;
    u.id = info.stem().string();
    u.info = info;
    u.data = info.parent_path() / u.id;
    const auto& size_deferred = json_member(j, "SizeIsDeferred");
    const bool deferred = tusd && size_deferred.is_boolean() && size_deferred.get<bool>();
    if (!deferred)
        u.length = size_field(j, tusd ? "Size" : "size");
    const auto& meta = j[meta_key];
    if (meta.is_object()) {
        for (const auto& [k, v] : meta.items())
            if (v.is_string())
                u.metadata[k] = v.get<std::string>();
    } else if (meta.is_string()) {
        auto decoded = decode_upload_metadata(meta.get<std::string>());
        if (decoded)
            u.metadata = std::move(*decoded);
    }
    if (auto c = j.find("creation_date"); c != j.end() && c->is_string())
        u.created = c->get<std::string>();
    std::error_code ec;
    const auto size = fs::file_size(u.data, ec);
    u.data_size = ec ? 0 : size;
    return u;
}

}  // namespace

Result<std::map<std::string, std::string>> decode_upload_metadata(std::string_view header) {
    std::map<std::string, std::string> out;
    while (!header.empty()) {
        const auto comma = header.find(',');
        auto pair = header.substr(0, comma);
        header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
        while (pair.starts_with(' '))
            pair.remove_prefix(1);
        if (pair.empty())
            continue;
        const auto space = pair.find(' ');
        const auto key = std::string(pair.substr(0, space));
        if (space == std::string_view::npos) {
            out[key] = "";
            continue;
        }
        auto value = base64_decode(pair.substr(space + 1));
        if (!value)
            return fail(Errc::invalid_argument,
                        fmt::format("Upload-Metadata: the value of \"{}\" is not base64", key));
        out[key] = std::string(reinterpret_cast<const char*>(value->data()), value->size());
    }
    return out;
}

Result<std::vector<StoredUpload>> read_tus_store(const fs::path& dir) {
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec)
        return fail(Errc::io, fmt::format("cannot list {}: {}", dir.string(), ec.message()));
    std::vector<StoredUpload> out;
    for (const auto& entry : it) {
        const auto& p = entry.path();
        if ((p.extension() != ".json" && p.extension() != ".info") || !entry.is_regular_file(ec))
            continue;
        if (auto u = read_info(p))
            out.push_back(std::move(*u));
    }
    std::ranges::sort(out, [](const auto& a, const auto& b) { return a.id < b.id; });
    return out;
}

}  // namespace exhibit::verify
