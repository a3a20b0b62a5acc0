// Fixed journald MESSAGE_IDs of exhibitd's lifecycle events (made with `systemd-id128 new`;
// never change or reuse one: journal queries and alerts at the DFU match on them). Each is
// explained in packaging/journald/exhibit.catalog; tests/journal checks the two agree.
//   journalctl MESSAGE_ID=5253a2a1c8284727983c794769760251
#pragma once

#include <string_view>

namespace exhibit::exhibitd::message_id {

// The store is open and READY=1 was sent. Fields: EXHIBIT_KIOSK_ID, EXHIBIT_STATE_DIRECTORY,
// EXHIBIT_VERSION, EXHIBIT_KEY_FINGERPRINT.
inline constexpr std::string_view kDaemonStarted = "5253a2a1c8284727983c794769760251";
// exhibitd stopped cleanly. Fields: EXHIBIT_SIGNAL (the signal that asked it to).
inline constexpr std::string_view kDaemonStopped = "079ff9e9e74b428592e85e4c3fb74940";
// At a stop, a driver did not return within the grace time (a library call it cannot
// interrupt); exhibitd exits without waiting for it. Fields: EXHIBIT_DEVICE (the first).
inline constexpr std::string_view kDriverNotStopped = "d05e523956f941ae96636f0d745b3dc4";
// Startup failed after the configuration was read (e.g. the store could not be opened).
inline constexpr std::string_view kStartupFailed = "5db0e2f2bf0f4c48bb1101ccf9584f40";
// The running loop failed or a callback raised; exhibitd exits non-zero to be restarted.
inline constexpr std::string_view kDaemonFailed = "97a977f2cdb849b4b697f2b565d7a9b8";
// The open file limit could not be raised (many devices or uploads may then fail).
// Fields: EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kOpenFileLimit = "00a361ab8f0a4cc9ace6189174a31524";
// No configuration file: exhibitd runs on its built-in defaults.
inline constexpr std::string_view kNoConfigFile = "75538726a79a41599f0be4bd86d5d085";
// watchdog = false while the unit sets WatchdogSec=: systemd will stop exhibitd as hung.
inline constexpr std::string_view kWatchdogMismatch = "6a9b81fcf1034639936117c337168d33";
// Start-up found unfinished sessions, partial files, missing or damaged items in the store.
// Fields: EXHIBIT_SESSIONS_INTERRUPTED, EXHIBIT_PARTIAL_ITEMS, EXHIBIT_SPOOL_FILES_KEPT,
// EXHIBIT_ITEMS_MISSING,
// EXHIBIT_ITEMS_DAMAGED, EXHIBIT_ITEMS_CHECKED.
inline constexpr std::string_view kStoreReconciled = "de85cb76505b4f65b44705f173bc5b9e";
// USB cannot be used (libusb, hotplug): only network devices are served. Fields:
// EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kUsbUnavailable = "7e172a95e37b492cae4966dcdb65bc7a";
// udev cannot be used: removable disks (USB sticks, memory cards) are not detected; phones
// still are. Fields: EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kDisksUnavailable = "ce40d39a3edc4f83a9cb247ee302f9d1";
// A device object was added, changed state or removed. Fields: EXHIBIT_DEVICE,
// EXHIBIT_DEVICE_CLASS, EXHIBIT_DEVICE_STATE, EXHIBIT_DEVICE_CHANGE, EXHIBIT_TRANSPORT.
inline constexpr std::string_view kDeviceChanged = "093eebe710ef46da978730394522fae2";
// A network device left [adb] network_devices but is in use, so it stays. Fields:
// EXHIBIT_DEVICE.
inline constexpr std::string_view kNetworkDeviceKept = "63c5df938d9c4cb8be713c0cdb47599b";
// A network device left [adb] network_devices and was removed. Fields: EXHIBIT_DEVICE.
inline constexpr std::string_view kNetworkDeviceRemoved = "3ade03de13714abbb47ff652b85ad364";
// SIGHUP asked for a configuration reload. Fields: EXHIBIT_ACTOR.
inline constexpr std::string_view kReloadRequested = "4dd46948d7f145dcac84cc55c56e590e";
// The configuration was reloaded. Fields: EXHIBIT_ACTOR, EXHIBIT_APPLIED,
// EXHIBIT_RESTART_REQUIRED.
inline constexpr std::string_view kReloaded = "7c45438056954064923b708f72ed5ea7";
// A configuration reload was refused; the running configuration stays. Fields:
// EXHIBIT_ACTOR, EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kReloadRefused = "c4e2842eaba6424fb1ae4f00ff726334";
// [upload] endpoint is not set: evidence stays on this kiosk.
inline constexpr std::string_view kUploadsOff = "77e825d0592242c0ba307806b55e5c6d";
// Uploads to the DFU store are on. Fields: EXHIBIT_ENDPOINT.
inline constexpr std::string_view kUploadsOn = "1ebe19acdd4945e8932c430343365f9f";
// A signal asked exhibitd to stop. Fields: EXHIBIT_SIGNAL.
inline constexpr std::string_view kStopRequested = "3dbff779e4d24774beb3909f7d3835b1";
// The store's health could not be read for the status line. Fields: EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kHealthUnavailable = "71d452c22161420fae61bba0ebd07d4e";

// What the DFU's monitoring gets from this kiosk, said once at start: the metrics file
// (or none) and the heartbeat interval (or none). Fields: EXHIBIT_METRICS_FILE,
// EXHIBIT_HEARTBEAT_INTERVAL.
inline constexpr std::string_view kMonitoringConfigured = "fef42ea12e5c40759ca459c93ac82067";
// A heartbeat could not be built or sent (logged once until one gets through again).
// Fields: EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kHeartbeatFailed = "5c6086c421c94696a35f75d792559c2a";
// Heartbeats reach the DFU store again after failing.
inline constexpr std::string_view kHeartbeatRecovered = "99445faaff804b3e9c12360573fd489c";

}  // namespace exhibit::exhibitd::message_id
