// The bandwidth cap's token bucket, on a hand-driven steady clock.
#include "daemon/upload/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace exhibit::upload {
namespace {

using namespace std::chrono_literals;
using Tp = RateLimiter::TimePoint;

TEST(RateLimiter, UnlimitedGrantsEverything) {
    RateLimiter r;
    EXPECT_EQ(r.take(1 << 30, Tp{}), 1u << 30);
    EXPECT_EQ(r.wait_for(1 << 30, Tp{}), 0us);
}

TEST(RateLimiter, LongRunRateIsTheCap) {
    RateLimiter r;
    Tp t{};
    r.set_rate(1'000'000, t);
    std::uint64_t sent = 0;
    // A sender that asks for 64 KiB every millisecond for ten seconds.
    for (int ms = 0; ms < 10'000; ++ms) {
        t += 1ms;
        sent += r.take(64 * 1024, t);
    }
    EXPECT_NEAR(static_cast<double>(sent), 10'000'000.0, 60'000.0);
}

TEST(RateLimiter, WaitSaysWhenTokensAreBack) {
    RateLimiter r;
    Tp t{};
    r.set_rate(1'000'000, t);
    t += 1s;
    EXPECT_EQ(r.take(1 << 20, t), r.burst()) << "at most a burst after idling";
    EXPECT_EQ(r.take(1, t), 0u);
    const auto wait = r.wait_for(16 * 1024, t);
    EXPECT_EQ(wait, 16384us);
    EXPECT_EQ(r.take(16 * 1024, t + wait), 16u * 1024);
}

TEST(RateLimiter, ChangingTheRateKeepsItBounded) {
    RateLimiter r;
    Tp t{};
    r.set_rate(10'000'000, t);
    t += 1s;
    r.set_rate(100'000, t);
    EXPECT_LE(r.take(1 << 20, t), r.burst()) << "tokens earned at the old rate are capped";
    r.set_rate(0, t);
    EXPECT_FALSE(r.limited());
}

}  // namespace
}  // namespace exhibit::upload
