// Fixed journald MESSAGE_IDs of extraction sessions' events (made with `systemd-id128 new`;
// never change or reuse one: journal queries and alerts at the DFU match on them). Each is
// explained in packaging/journald/exhibit.catalog; tests/journal checks the two agree.
#pragma once

#include <string_view>

namespace exhibit::extract::message_id {

// A device could not be connected to (not allowed, locked, gone, protocol error).
// Fields: EXHIBIT_DEVICE, EXHIBIT_DEVICE_CLASS, EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kLinkFailed = "dcb40570e3b14a8aadf99206d0a99c9f";
// A kept link to a device had failed; exhibitd connects again. Fields:
// EXHIBIT_DEVICE, EXHIBIT_DEVICE_CLASS, EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kLinkReopened = "89db086cf47d43a495af74cad20e1cde";
// An extraction session started on a device. Fields: EXHIBIT_SESSION,
// EXHIBIT_DEVICE, EXHIBIT_DEVICE_CLASS, EXHIBIT_DRIVER, EXHIBIT_DRIVER_VERSION.
inline constexpr std::string_view kExtractionStarted = "5070e25034ef420bbf5da579135179fb";
// One artefact of a session was skipped (the reason and its path are in the audit log
// only). Fields: EXHIBIT_SESSION, EXHIBIT_CATEGORY, EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kArtefactSkipped = "a85319c1f86d43889019e01dad27bd4c";
// A session's end could not be written to the catalog. Fields: EXHIBIT_SESSION,
// EXHIBIT_SESSION_STATE, EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kSessionNotRecorded = "20d26a98ab794972865994ec3e8e8144";

}  // namespace exhibit::extract::message_id
