// Fixed journald MESSAGE_IDs of the generic USB layer's events (made with `systemd-id128 new`;
// never change or reuse one: journal queries and alerts at the DFU match on them). Each is
// explained in packaging/journald/exhibit.catalog; tests/journal checks the two agree.
#pragma once

#include <string_view>

namespace exhibit::usb::message_id {

// A hotplug notification or the monitor's handling of one raised: a plug or unplug
// was not reported. Fields: EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kHotplugEventLost = "d81a13e94e1a4142841f49df33e7048f";
// A plugged USB device could not be read (descriptors, strings). Fields:
// EXHIBIT_USB_BUS_PATH, EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kInspectFailed = "b8afb76f62764fb89ac99bb7bb3b1120";
// libusb's event handling failed (at most once a minute). Fields: EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kEventHandlingFailed = "8f9ad7abc2e44f948f49b14625fa6611";

}  // namespace exhibit::usb::message_id
