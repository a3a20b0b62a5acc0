#include "daemon/officers/officer_file.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "common/fs.hpp"

namespace exhibit::officers {

namespace {

constexpr std::size_t kMaxFileBytes = 4 << 20;

bool is_control(char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
}

}  // namespace

bool is_valid_officer_id(std::string_view id) {
    return !id.empty() && id.size() <= 32 &&
           id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
               std::string_view::npos;
}

bool is_valid_officer_name(std::string_view name) {
    return name.size() <= 64 && std::ranges::none_of(name, is_control);
}

Result<std::vector<Officer>> read_officers(const std::filesystem::path& file) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec))
        return std::vector<Officer>{};
    auto text = fs::read_file(file, kMaxFileBytes);
    if (!text)
        return std::unexpected(text.error());
    std::vector<Officer> out;
    std::size_t line_no = 0;
    for (std::size_t at = 0; at < text->size();) {
        auto end = text->find('\n', at);
        std::string_view line(text->data() + at,
                              (end == std::string::npos ? text->size() : end) - at);
        at = end == std::string::npos ? text->size() : end + 1;
        ++line_no;
        if (line.empty() || line.starts_with('#'))
            continue;
        auto t1 = line.find('\t');
        auto t2 = t1 == std::string_view::npos ? t1 : line.find('\t', t1 + 1);
        Officer o;
        if (t2 != std::string_view::npos) {
            o.id = line.substr(0, t1);
            o.name = line.substr(t1 + 1, t2 - t1 - 1);
            o.pin_hash = line.substr(t2 + 1);
        }
        if (t2 == std::string_view::npos || !is_valid_officer_id(o.id) ||
            !is_valid_officer_name(o.name) || o.pin_hash.empty() ||
            std::ranges::any_of(o.pin_hash, is_control))
            return fail(Errc::invalid_argument,
                        fmt::format("{}:{}: not \"<id> TAB <name> TAB <PIN hash>\"",
                                    file.string(), line_no));
        out.push_back(std::move(o));
    }
    return out;
}

Status write_officers(const std::filesystem::path& file, const std::vector<Officer>& officers) {
    std::string text =
        "# Officers who may sign in at this kiosk: id, name, salted scrypt hash of the PIN.\n"
        "# Written by exhibitd; change it with exhibitctl officer add|remove.\n";
    for (const auto& o : officers)
        text += fmt::format("{}\t{}\t{}\n", o.id, o.name, o.pin_hash);
    return fs::write_file_atomic(file, text, 0600);
}

}  // namespace exhibit::officers
