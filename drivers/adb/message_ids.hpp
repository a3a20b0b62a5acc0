// Fixed journald MESSAGE_IDs of the ADB driver's events (made with `systemd-id128 new`;
// never change or reuse one: journal queries and alerts at the DFU match on them). Each is
// explained in packaging/journald/exhibit.catalog; tests/journal checks the two agree.
#pragma once

#include <string_view>

namespace exhibit::adb::message_id {

// Cancelled USB transfers were not called back within 5 s. Fields:
// EXHIBIT_USB_BUS_PATH, EXHIBIT_DEVICE_CLASS, EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kTransfersStuck = "a6f147cd41c64ac08cf004f43ad37cbc";

}  // namespace exhibit::adb::message_id
