// The boundary between a simulated iPhone's services (lockdownd, AFC: phonesim/ios/) and the
// transports that carry them: usbmux's TCP connections on the emulated USB bus
// (phonesim/usb/usbmux_server), or a UNIX socket in tests. A transport accepts a connection
// to a device port only when the host listens there, and then hands it to serve() on a
// thread of its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/error.hpp"

namespace exhibit::phonesim::ios {

// One connection's byte stream, as a service sees it. Blocking; used by one thread.
class Stream {
  public:
    virtual ~Stream() = default;
    // At least one byte into `buffer`; 0 when the host closed its side, an error when the
    // connection was reset or the device unplugged.
    virtual Result<std::size_t> read_some(std::span<std::byte> buffer) = 0;
    // All of `bytes`, or an error (reset, unplugged).
    virtual Status write_all(std::span<const std::byte> bytes) = 0;
};

// The device's listening ports. Thread-safe: several connections are served at once.
class ServiceHost {
  public:
    virtual ~ServiceHost() = default;
    // Whether a connection to `port` is accepted now (lockdownd's 62078 always; a service's
    // port once StartService gave it out). A refused connection is reset (usbmux: RST).
    virtual bool listens(std::uint16_t port) const = 0;
    // Serves one accepted connection until either side ends it; the transport closes its
    // side when this returns.
    virtual void serve(std::uint16_t port, Stream& stream) = 0;
};

}  // namespace exhibit::phonesim::ios
