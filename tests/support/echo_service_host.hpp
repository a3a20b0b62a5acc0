// A ServiceHost for transport tests (usbmux): port 1234 echoes what it reads until the host
// closes; port 1235 writes stream_bytes pseudo-random bytes (pseudo_random(), from seed 1)
// and closes. Nothing else listens. Thread-safe.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "phonesim/ios/service_host.hpp"

namespace exhibit::testing {

// The bytes port 1235 sends, from a xorshift64 state; `state` carries on between calls.
inline void pseudo_random(std::uint64_t& state, std::span<std::byte> out) {
    for (std::size_t i = 0; i < out.size(); i += 8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        for (std::size_t k = 0; k < 8 && i + k < out.size(); ++k)
            out[i + k] = static_cast<std::byte>(state >> (8 * k));
    }
}

class EchoServiceHost final : public phonesim::ios::ServiceHost {
  public:
    static constexpr std::uint16_t kEcho = 1234;
    static constexpr std::uint16_t kStream = 1235;

    explicit EchoServiceHost(std::uint64_t stream_bytes) : stream_bytes_(stream_bytes) {}

    bool listens(std::uint16_t port) const override { return port == kEcho || port == kStream; }

    void serve(std::uint16_t port, phonesim::ios::Stream& stream) override {
        ++served_;
        ++active_;
        if (port == kEcho)
            echo(stream);
        else
            send_stream(stream);
        --active_;
        ++finished_;
    }

    int served() const { return served_; }
    int active() const { return active_; }
    int finished() const { return finished_; }
    int failures() const { return failures_; }  // reads or writes that failed

  private:
    void echo(phonesim::ios::Stream& stream) {
        std::vector<std::byte> buf(48 * 1024);
        for (;;) {
            auto n = stream.read_some(buf);
            if (!n) {
                ++failures_;
                return;
            }
            if (*n == 0)
                return;
            if (!stream.write_all(std::span(buf).first(*n))) {
                ++failures_;
                return;
            }
        }
    }

    void send_stream(phonesim::ios::Stream& stream) {
        std::uint64_t state = 1;
        std::vector<std::byte> buf(64 * 1024);
        for (std::uint64_t left = stream_bytes_; left > 0;) {
            auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
            pseudo_random(state, std::span(buf).first(n));
            if (!stream.write_all(std::span(buf).first(n))) {
                ++failures_;
                return;
            }
            left -= n;
        }
    }

    const std::uint64_t stream_bytes_;
    std::atomic<int> served_{0};
    std::atomic<int> active_{0};
    std::atomic<int> finished_{0};
    std::atomic<int> failures_{0};
};

}  // namespace exhibit::testing
