// A token bucket shared by every transfer: the bandwidth cap of the upload channel. Time is
// passed in (steady clock), so it is a pure object. Thread-bound to the loop.
#pragma once

#include <chrono>
#include <cstdint>

namespace exhibit::upload {

class RateLimiter {
  public:
    using TimePoint = std::chrono::steady_clock::time_point;

    // 0 bytes per second means unlimited. Changing the rate keeps the tokens earned so far
    // (capped by the new burst size).
    void set_rate(std::uint64_t bytes_per_second, TimePoint now);
    std::uint64_t rate() const { return rate_; }
    bool limited() const { return rate_ != 0; }

    // Takes up to `want` bytes' worth of tokens and returns how many were granted (0 when the
    // bucket is empty; `want` when unlimited).
    std::uint64_t take(std::uint64_t want, TimePoint now);

    // How long until `bytes` tokens are available (0 when they are now, or unlimited).
    std::chrono::microseconds wait_for(std::uint64_t bytes, TimePoint now);

    // The bucket holds at most this much: 1/20 s of traffic, at least 16 KiB.
    std::uint64_t burst() const;

  private:
    void refill(TimePoint now);

    std::uint64_t rate_ = 0;
    double tokens_ = 0;
    TimePoint last_{};
};

}  // namespace exhibit::upload
