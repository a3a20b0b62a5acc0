#include "rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace exhibit::upload {

std::uint64_t RateLimiter::burst() const {
    return std::max<std::uint64_t>(rate_ / 20, 16 * 1024);
}

void RateLimiter::set_rate(std::uint64_t bytes_per_second, TimePoint now) {
    if (bytes_per_second == rate_)
        return;
    refill(now);
    rate_ = bytes_per_second;
    last_ = now;
    tokens_ = std::min(tokens_, static_cast<double>(burst()));
}

void RateLimiter::refill(TimePoint now) {
    if (rate_ == 0)
        return;
    if (now > last_) {
        const double seconds = std::chrono::duration<double>(now - last_).count();
        tokens_ =
            std::min(static_cast<double>(burst()), tokens_ + seconds * static_cast<double>(rate_));
    }
    last_ = std::max(last_, now);
}

std::uint64_t RateLimiter::take(std::uint64_t want, TimePoint now) {
    if (rate_ == 0)
        return want;
    refill(now);
    const auto granted = std::min<std::uint64_t>(want, static_cast<std::uint64_t>(tokens_));
    tokens_ -= static_cast<double>(granted);
    return granted;
}

std::chrono::microseconds RateLimiter::wait_for(std::uint64_t bytes, TimePoint now) {
    if (rate_ == 0)
        return {};
    refill(now);
    const double need = static_cast<double>(std::min(bytes, burst())) - tokens_;
    if (need <= 0)
        return {};
    return std::chrono::microseconds(
        static_cast<std::int64_t>(std::ceil(need * 1e6 / static_cast<double>(rate_))));
}

}  // namespace exhibit::upload
