// One simulated iPhone: lockdownd on port 62078 (pairing, trust states, session TLS,
// StartService) and the services it starts on ports from 49152 up (AFC over the media root,
// crashreportcopymobile, crashreportmover). Transports (the fake usbmuxd socket, usbmux on
// the emulated USB bus) hand it connections through ServiceHost.
//
// Thread-safe: serve() runs on each transport's connection thread, several at once, while a
// test taps the dialog (trust(), deny(), unlock()) or reads the counters.
//
//   IosSettings s;  s.media_root = dir;  s.trust = TrustState::waiting;
//   auto device = IosDevice::create(std::move(s));  // generates the RSA-2048 device key
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "common/error.hpp"
#include "phonesim/ios/device_keys.hpp"
#include "phonesim/ios/ios_settings.hpp"
#include "phonesim/ios/service_host.hpp"
#include "phonesim/ios/tls_stream.hpp"
#include "phonesim/ios/trust_book.hpp"

namespace exhibit::phonesim::ios {

inline constexpr std::uint16_t kLockdownPort = 62078;
inline constexpr std::uint16_t kFirstServicePort = 49152;
// Ports given out by StartService and not yet connected to; lockdownd refuses more.
inline constexpr std::size_t kMaxPendingServices = 64;

enum class IosService {
    afc,                 // com.apple.afc
    crash_report_copy,   // com.apple.crashreportcopymobile: AFC on the same tree
    crash_report_mover,  // com.apple.crashreportmover: sends "ping", closes
};

class IosDevice final : public ServiceHost {
  public:
    static Result<std::unique_ptr<IosDevice>> create(IosSettings settings);

    bool listens(std::uint16_t port) const override;
    void serve(std::uint16_t port, Stream& stream) override;

    // The user at the phone.
    void unlock() { trust_.unlock(); }
    void trust() { trust_.trust(); }
    void deny() { trust_.deny(); }
    TrustState trust_state() const { return trust_.state(); }

    // What tests check: the hosts paired now, AFC write attempts refused (open for writing,
    // write, remove, rename, mkdir, lock, ...), AFC requests seen.
    std::vector<Pairing> pairings() const { return trust_.pairings(); }
    std::uint64_t refused_writes() const { return refused_writes_.load(); }
    std::uint64_t afc_requests() const { return afc_requests_.load(); }

    const IosSettings& settings() const { return settings_; }

    // For the services (lockdownd, AFC).
    const DeviceKeys& keys() const { return keys_; }
    const TlsContext& tls() const { return tls_; }
    TrustBook& trust_book() { return trust_; }
    // A fresh port (≥ 49152) that listens for one connection to `service`; nullopt when
    // kMaxPendingServices ports already wait for theirs.
    std::optional<std::uint16_t> open_service(IosService service);
    void count_refused_write() { ++refused_writes_; }
    // Counts one AFC request; returns its number (1-based, device-wide).
    std::uint64_t next_afc_request() { return ++afc_requests_; }

  private:
    IosDevice(IosSettings settings, DeviceKeys keys, TlsContext tls);

    const IosSettings settings_;
    const DeviceKeys keys_;
    const TlsContext tls_;
    TrustBook trust_;
    mutable std::mutex ports_mutex_;
    std::map<std::uint16_t, IosService> open_ports_;
    std::uint16_t next_port_ = kFirstServicePort;
    std::atomic<std::uint64_t> refused_writes_{0};
    std::atomic<std::uint64_t> afc_requests_{0};
};

}  // namespace exhibit::phonesim::ios
