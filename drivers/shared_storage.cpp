#include "drivers/shared_storage.hpp"

#include <cctype>
#include <map>

#include <fmt/format.h>

namespace exhibit::drivers {

namespace {

std::string lower_extension(std::string_view name) {
    auto dot = name.rfind('.');
    if (dot == std::string_view::npos || dot + 1 == name.size())
        return {};
    std::string ext(name.substr(dot + 1));
    for (auto& c : ext)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return ext;
}

}  // namespace

std::optional<Category> classify_file(std::string_view name) {
    static const std::map<std::string, Category, std::less<>> kByExtension = [] {
        std::map<std::string, Category, std::less<>> m;
        for (auto e :
             {"jpg", "jpeg", "png", "heic", "heif", "webp", "gif", "bmp", "dng", "tif", "tiff"})
            m[e] = Category::photos;
        for (auto e : {"mp4", "m4v", "mov", "3gp", "3g2", "mkv", "webm", "avi", "ts"})
            m[e] = Category::videos;
        for (auto e :
             {"mp3", "m4a", "aac", "ogg", "oga", "opus", "wav", "amr", "awb", "flac", "3ga", "mid"})
            m[e] = Category::audio;
        for (auto e : {"pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp",
                       "txt", "rtf", "csv", "epub", "pages", "numbers", "key", "vcf", "ics"})
            m[e] = Category::documents;
        return m;
    }();
    auto it = kByExtension.find(lower_extension(name));
    if (it == kByExtension.end())
        return std::nullopt;
    return it->second;
}

const std::vector<std::string>& shared_storage_roots() {
    static const std::vector<std::string> roots = {
        "DCIM", "Pictures", "Movies", "Music", "Download", "Documents", "Recordings", "Podcasts",
        "Audiobooks", "Notifications", "Ringtones", "Alarms",
        // messaging apps' media (current scoped-storage location, then the legacy ones)
        "Android/media/com.whatsapp/WhatsApp/Media",
        "Android/media/com.whatsapp.w4b/WhatsApp Business/Media",
        "Android/media/org.telegram.messenger/Telegram", "Android/media/org.thoughtcrime.securesms",
        "WhatsApp/Media", "Telegram", "Signal", "Snapchat", "Messenger"};
    return roots;
}

std::optional<std::string> unusable_name(std::string_view name) {
    if (name.empty())
        return "an empty name";
    if (name.size() > kMaxEntryName)
        return fmt::format("a name of {} bytes (limit {})", name.size(), kMaxEntryName);
    if (name.find('/') != std::string_view::npos)
        return "a name containing '/'";
    if (name.find('\0') != std::string_view::npos)
        return "a name containing a NUL byte";
    if (name == "." || name == "..")
        return "a name that is '.' or '..'";
    return std::nullopt;
}

}  // namespace exhibit::drivers
