#include "phonesim/ios/trust_book.hpp"

namespace exhibit::phonesim::ios {

void TrustBook::unlock() {
    std::lock_guard lock(mutex_);
    if (state_ == TrustState::locked)
        state_ = TrustState::waiting;
}

void TrustBook::trust() {
    std::lock_guard lock(mutex_);
    state_ = TrustState::trusted;
    denied_ = false;
}

void TrustBook::deny() {
    std::lock_guard lock(mutex_);
    if (state_ == TrustState::trusted)
        state_ = TrustState::waiting;
    denied_ = true;
}

TrustState TrustBook::state() const {
    std::lock_guard lock(mutex_);
    return state_;
}

std::optional<std::string> TrustBook::pair(const Pairing& pairing) {
    std::lock_guard lock(mutex_);
    switch (state_) {
        case TrustState::locked:
            return kPasswordProtected;
        case TrustState::waiting:
            if (denied_) {
                denied_ = false;  // the next Pair shows the dialog again
                return kUserDenied;
            }
            return kDialogPending;
        case TrustState::trusted:
            pairings_[pairing.host_id] = pairing;
            return std::nullopt;
    }
    return kDialogPending;
}

std::optional<std::string> TrustBook::admit(std::string_view host_id) const {
    std::lock_guard lock(mutex_);
    if (state_ == TrustState::locked)
        return kPasswordProtected;
    if (!pairings_.contains(host_id))
        return kInvalidHostId;
    return std::nullopt;
}

bool TrustBook::unpair(std::string_view host_id) {
    std::lock_guard lock(mutex_);
    auto it = pairings_.find(host_id);
    if (it == pairings_.end())
        return false;
    pairings_.erase(it);
    if (pairings_.empty() && state_ == TrustState::trusted)
        state_ = TrustState::waiting;
    return true;
}

std::vector<Pairing> TrustBook::pairings() const {
    std::lock_guard lock(mutex_);
    std::vector<Pairing> out;
    for (const auto& [id, p] : pairings_)
        out.push_back(p);
    return out;
}

}  // namespace exhibit::phonesim::ios
