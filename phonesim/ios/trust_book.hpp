// The phone's trust and lock state (facts §4) and the hosts it is paired with. Thread-safe:
// lockdownd connections ask it while a test taps the dialog (trust(), deny(), unlock()).
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "phonesim/ios/ios_settings.hpp"

namespace exhibit::phonesim::ios {

// lockdownd's Error strings for a refused Pair / StartSession / ValidatePair.
inline constexpr char kPasswordProtected[] = "PasswordProtected";
inline constexpr char kDialogPending[] = "PairingDialogResponsePending";
inline constexpr char kUserDenied[] = "UserDeniedPairing";
inline constexpr char kInvalidHostId[] = "InvalidHostID";

struct Pairing {
    std::string host_id;
    std::string system_buid;
};

class TrustBook {
  public:
    explicit TrustBook(TrustState initial) : state_(initial) {}

    void unlock();  // locked → waiting (the dialog shows on the next Pair)
    void trust();   // the user taps Trust
    void deny();    // the user taps Don't Trust: the next Pair is refused, then it asks again
    TrustState state() const;

    // nullopt when the pairing was stored; else the lockdownd Error to answer.
    std::optional<std::string> pair(const Pairing& pairing);
    // nullopt when `host_id` may start a session / is paired.
    std::optional<std::string> admit(std::string_view host_id) const;
    // Forgets the host; false when it was not paired. With no host left, a trusting phone
    // asks "Trust This Computer?" again at the next Pair, as an iPhone does for a host it no
    // longer knows.
    bool unpair(std::string_view host_id);
    std::vector<Pairing> pairings() const;

  private:
    mutable std::mutex mutex_;
    TrustState state_;
    bool denied_ = false;
    std::map<std::string, Pairing, std::less<>> pairings_;
};

}  // namespace exhibit::phonesim::ios
