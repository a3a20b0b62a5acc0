// Officers at the kiosk: who may sign in (the officers file), who is signed in on which client
// connection, and the lock-out. The one owner of these rules; the D-Bus edge only names the
// client (its unique bus name) and translates errors.
//
//   - A PIN is checked against its salted scrypt hash; an unknown id answers exactly like a
//     wrong PIN, so ids cannot be probed.
//   - kMaxWrongPins wrong PINs in a row for one id lock that id for kLockout; the count and the
//     lock are kept in the catalog, so a restart does not lift them. A right PIN resets the
//     count; an administrator can unlock an id.
//   - A sign-in binds a client (one connection of the kiosk) to one officer until it signs out,
//     signs in again, or goes away.
//   - Every sign-in, wrong PIN, lock, sign-out, addition and removal is an audit entry. A PIN
//     is never logged, audited or kept.
//
// Thread-bound to the loop thread (it uses the loop's store connection).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "daemon/officers/officer_file.hpp"
#include "daemon/store/store.hpp"

namespace exhibit::officers {

inline constexpr int kMaxWrongPins = 5;
inline constexpr std::chrono::minutes kLockout{15};

struct SignedIn {
    std::string officer_id;
    std::string name;
};

struct OfficerListing {
    std::string id;
    std::string name;
    std::optional<TimePoint> locked_until;  // set while the id is locked
};

class SignInDesk {
  public:
    SignInDesk(std::filesystem::path officers_file, store::Store& store,
               const Clock& clock = Clock::system());

    // Errc::denied ("wrong officer id or PIN (N tries left ...)"), Errc::locked ("... locked
    // until HH:MM ..."), or Errc::invalid_argument for an id or PIN that cannot be one.
    Result<SignedIn> sign_in(const std::string& client, std::string_view officer_id,
                             std::string_view pin);
    // Ends the client's sign-in, audited with `why` ("signed out", "disconnected", ...);
    // nothing happens when it is not signed in.
    void sign_out(const std::string& client, std::string_view why);
    std::optional<SignedIn> officer_of(const std::string& client) const;
    bool has_clients() const { return !signed_in_.empty(); }

    // Administration (exhibitctl officer ...). `actor` is who asked, for the audit log.
    Status add(std::string_view id, std::string_view name, std::string_view pin,
               std::string_view actor);
    Status remove(std::string_view id, std::string_view actor);
    Status unlock(std::string_view id, std::string_view actor);
    Result<std::vector<OfficerListing>> list();

  private:
    struct Failures {
        int count = 0;
        std::optional<TimePoint> locked_until;
    };
    Result<Failures> failures_of(std::string_view officer_id);
    Status record_failure(std::string_view officer_id, Failures now);
    Status clear_failures(std::string_view officer_id);
    void audit(std::string_view actor, std::string_view event, const nlohmann::json& details);

    std::filesystem::path file_;
    store::Store* store_;
    const Clock* clock_;
    std::map<std::string, SignedIn> signed_in_;  // by client
};

}  // namespace exhibit::officers
