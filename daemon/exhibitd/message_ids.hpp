// Fixed journald MESSAGE_IDs of exhibitd's lifecycle events (made with `systemd-id128 new`;
// never change one: journal queries and alerts at the DFU match on them).
//   journalctl MESSAGE_ID=5253a2a1c8284727983c794769760251
#pragma once

#include <string_view>

namespace exhibit::exhibitd::message_id {

// The store is open and READY=1 was sent. Fields: EXHIBIT_KIOSK_ID, EXHIBIT_STATE_DIRECTORY,
// EXHIBIT_VERSION, EXHIBIT_KEY_FINGERPRINT.
inline constexpr std::string_view kDaemonStarted = "5253a2a1c8284727983c794769760251";
// exhibitd stopped cleanly. Fields: EXHIBIT_SIGNAL (the signal that asked it to).
inline constexpr std::string_view kDaemonStopped = "079ff9e9e74b428592e85e4c3fb74940";
// Startup failed after the configuration was read (e.g. the store could not be opened).
inline constexpr std::string_view kStartupFailed = "5db0e2f2bf0f4c48bb1101ccf9584f40";
// The running loop failed or a callback raised; exhibitd exits non-zero to be restarted.
inline constexpr std::string_view kDaemonFailed = "97a977f2cdb849b4b697f2b565d7a9b8";

}  // namespace exhibit::exhibitd::message_id
