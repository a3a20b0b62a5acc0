// The phone's list of authorised host keys (adb_keys) and the key waiting for the person to
// allow it. Thread-safe: connections check keys while the control thread allows one.
#pragma once

#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "drivers/adb/android_pubkey.hpp"

namespace exhibit::phonesim {

class AuthKeys {
  public:
    // `file` may be empty (keys kept in memory only). Lines are "<base64>[ comment]".
    static Result<std::shared_ptr<AuthKeys>> load(const std::filesystem::path& file,
                                                  bool accept_new);

    // True when `signature` signs `token` with any authorised key.
    bool verify(std::span<const std::byte> token, std::span<const std::byte> signature) const;
    // The host offered its public key: accepted at once with accept_new, otherwise pending.
    // Returns whether it is authorised now.
    bool offer(const std::string& key_line);
    // The person allowed the pending key(s): they are appended to the file.
    std::size_t allow_pending();
    bool is_authorised(const std::string& key_line) const;

  private:
    AuthKeys(std::filesystem::path file, bool accept_new)
        : file_(std::move(file)), accept_new_(accept_new) {}
    void add_locked(const std::string& key_line);

    std::filesystem::path file_;
    bool accept_new_;
    mutable std::mutex mutex_;
    std::vector<std::pair<std::string, adb::AdbPublicKey>> keys_;  // base64 -> key
    std::vector<std::string> pending_;
};

}  // namespace exhibit::phonesim
