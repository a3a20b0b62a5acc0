#include "daemon/notices/notice_library.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "common/fs.hpp"
#include "common/sha256.hpp"
#include "common/utf8.hpp"
#include "daemon/config/config.hpp"

namespace exhibit::notices {

namespace {

constexpr std::string_view kSuffix = ".md";

// The versions installed, sorted by name.
std::vector<std::string> installed(const std::filesystem::path& directory) {
    std::vector<std::string> out;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(directory, ec), end; !ec && it != end;
         it.increment(ec)) {
        auto name = it->path().filename().string();
        if (!name.ends_with(kSuffix) || !it->is_regular_file(ec))
            continue;
        name.resize(name.size() - kSuffix.size());
        if (config::is_valid_notice_version(name))
            out.push_back(std::move(name));
    }
    std::ranges::sort(out);
    return out;
}

}  // namespace

NoticeLibrary::NoticeLibrary(std::filesystem::path directory, std::string current_version)
    : directory_(std::move(directory)), current_(std::move(current_version)) {}

void NoticeLibrary::configure(std::filesystem::path directory, std::string current_version) {
    directory_ = std::move(directory);
    current_ = std::move(current_version);
}

Result<Notice> NoticeLibrary::find(std::string_view version) const {
    if (!config::is_valid_notice_version(version))
        return fail(Errc::not_found, fmt::format("there is no notice \"{}\"", version));
    const auto path = directory_ / (std::string(version) + std::string(kSuffix));
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        return fail(Errc::not_found,
                    fmt::format("there is no notice \"{}\" in {}", version, directory_.string()));
    auto text = fs::read_file(path, kMaxNoticeBytes);
    if (!text)
        return fail(Errc::corrupt, fmt::format("notice {}: {} (at most {} KiB)", path.string(),
                                               text.error().describe(), kMaxNoticeBytes / 1024));
    if (!is_valid_utf8(*text))
        return fail(Errc::corrupt, fmt::format("notice {} is not valid UTF-8", path.string()));
    return Notice{.version = std::string(version),
                  .text = *text,
                  .sha256 = to_hex(Sha256::of(*text))};
}

Result<Notice> NoticeLibrary::current() const {
    if (!current_.empty())
        return find(current_);
    auto versions = installed(directory_);
    if (versions.empty())
        return fail(Errc::not_found,
                    fmt::format("no Digital Processing Notice is installed in {} (<version>.md)",
                                directory_.string()));
    return find(versions.back());
}

Result<nlohmann::json> NoticeLibrary::consent_record(std::string_view version) const {
    auto notice = find(version);
    if (notice)
        return nlohmann::json{{"notice_version", notice->version},
                              {"notice_sha256", notice->sha256}};
    if (notice.error().code != Errc::not_found)
        return std::unexpected(notice.error());
    return nlohmann::json{{"notice_version", std::string(version)}};
}

}  // namespace exhibit::notices
