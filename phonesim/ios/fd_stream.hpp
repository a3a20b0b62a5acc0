// A Stream over a connected socket, for transports that hand the device a file descriptor
// (the fake usbmuxd socket, tests). Writes go out in pieces of at most max_fragment bytes,
// one send() each, as the real usbmuxd delivers a device's data (facts §1.3: a fake that
// sends whole messages hides the host's single-recv bugs). Thread-bound; does not own the fd.
#pragma once

#include <cstddef>

#include "phonesim/ios/service_host.hpp"

namespace exhibit::phonesim::ios {

inline constexpr std::size_t kUsbmuxFragment = 16384;

class FdStream final : public Stream {
  public:
    explicit FdStream(int fd, std::size_t max_fragment = kUsbmuxFragment)
        : fd_(fd), max_fragment_(max_fragment) {}
    Result<std::size_t> read_some(std::span<std::byte> buffer) override;
    Status write_all(std::span<const std::byte> bytes) override;

  private:
    int fd_;
    std::size_t max_fragment_;
};

}  // namespace exhibit::phonesim::ios
