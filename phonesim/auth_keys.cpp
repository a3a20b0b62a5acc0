#include "auth_keys.hpp"

#include <algorithm>
#include <fstream>

#include <fmt/format.h>

#include "common/fs.hpp"

namespace exhibit::phonesim {

namespace {
std::string key_text(const std::string& line) {
    auto end = line.find_first_of(" \t\r\n");
    return line.substr(0, end);
}
}  // namespace

Result<std::shared_ptr<AuthKeys>> AuthKeys::load(const std::filesystem::path& file,
                                                 bool accept_new) {
    std::shared_ptr<AuthKeys> keys(new AuthKeys(file, accept_new));
    if (file.empty() || !std::filesystem::exists(file))
        return keys;
    auto text = fs::read_file(file, 4 << 20);
    if (!text)
        return std::unexpected(text.error());
    std::size_t pos = 0;
    while (pos < text->size()) {
        auto end = text->find('\n', pos);
        if (end == std::string::npos)
            end = text->size();
        auto line = text->substr(pos, end - pos);
        pos = end + 1;
        if (line.empty() || line[0] == '#')
            continue;
        auto key = adb::AdbPublicKey::parse(line);
        if (!key)
            return fail(Errc::invalid_argument,
                        fmt::format("{}: {}", file.string(), key.error().message));
        keys->keys_.emplace_back(key_text(line), std::move(*key));
    }
    return keys;
}

bool AuthKeys::verify(std::span<const std::byte> token,
                      std::span<const std::byte> signature) const {
    std::lock_guard lock(mutex_);
    for (const auto& [text, key] : keys_)
        if (key.verify_token(token, signature))
            return true;
    return false;
}

void AuthKeys::add_locked(const std::string& key_line) {
    auto key = adb::AdbPublicKey::parse(key_line);
    if (!key)
        return;
    auto text = key_text(key_line);
    for (const auto& [t, k] : keys_)
        if (t == text)
            return;
    keys_.emplace_back(text, std::move(*key));
    if (!file_.empty())
        std::ofstream(file_, std::ios::app) << key_line << "\n";
}

bool AuthKeys::offer(const std::string& key_line) {
    std::lock_guard lock(mutex_);
    if (accept_new_) {
        add_locked(key_line);
        return true;
    }
    // A host that reconnects offers the same key again: one dialog, not one per attempt.
    if (std::find(pending_.begin(), pending_.end(), key_line) == pending_.end())
        pending_.push_back(key_line);
    return false;
}

std::size_t AuthKeys::allow_pending() {
    std::lock_guard lock(mutex_);
    auto n = pending_.size();
    for (const auto& line : pending_)
        add_locked(line);
    pending_.clear();
    return n;
}

bool AuthKeys::is_authorised(const std::string& key_line) const {
    std::lock_guard lock(mutex_);
    auto text = key_text(key_line);
    for (const auto& [t, k] : keys_)
        if (t == text)
            return true;
    return false;
}

}  // namespace exhibit::phonesim
