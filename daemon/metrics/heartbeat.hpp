// The heartbeat: a small signed status document a kiosk sends to the DFU store every few
// minutes over the upload channel, so that the DFU sees kiosks its Prometheus cannot reach
// (exhibit-fleet reads them; docs/monitoring.md, "Heartbeats"). It carries the same figures
// as the metrics, the software version and the key fingerprint, and, like the metrics,
// nothing about cases, people, devices' serials or files.
//
// The body is canonical JSON (docs/manifest.md's rules), signed with the kiosk's identity key
// (Ed25519, detached, base64 in the upload's metadata). Its sequence number only grows, so
// the DFU can refuse one sent again (a replay).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "daemon/keys/identity_key.hpp"
#include "daemon/metrics/kiosk_metrics.hpp"

namespace exhibit::metrics {

inline constexpr std::string_view kHeartbeatFormat = "exhibit-heartbeat-v1";

struct SignedHeartbeat {
    std::string body;       // canonical JSON: the exact bytes signed and uploaded
    std::string signature;  // base64 Ed25519 signature of body
    std::string key_fingerprint;
    std::uint64_t sequence = 0;
};

Result<SignedHeartbeat> build_heartbeat(const KioskFigures& figures, const keys::IdentityKey& key,
                                        std::string_view kiosk_id, std::string_view version,
                                        std::uint64_t sequence, TimePoint now);

// The heartbeats' sequence numbers, kept in a file of the state directory so that they grow
// across restarts: each is greater than the last one handed out and at least the clock's
// milliseconds since the epoch (a store restored without the file still goes forwards).
class HeartbeatSequence {
  public:
    explicit HeartbeatSequence(std::filesystem::path file) : file_(std::move(file)) {}
    Result<std::uint64_t> next(TimePoint now);

  private:
    std::filesystem::path file_;
};

}  // namespace exhibit::metrics
