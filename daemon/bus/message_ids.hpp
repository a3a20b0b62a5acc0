// Fixed journald MESSAGE_IDs of the D-Bus edge's events (made with `systemd-id128 new`;
// never change or reuse one: journal queries and alerts at the DFU match on them). Each is
// explained in packaging/journald/exhibit.catalog; tests/journal checks the two agree.
#pragma once

#include <string_view>

namespace exhibit::bus::message_id {

// A reply or signal could not be sent on the bus. Fields: EXHIBIT_BUS_MEMBER,
// EXHIBIT_DEVICE (for device signals), EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kSendFailed = "44a4ffb575c94b8e96d164639d10cf7d";
// A D-Bus handler raised; the caller got Error.Failed. Fields: EXHIBIT_BUS_MEMBER,
// EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kHandlerFailed = "64f0a0674306445788454212da329f08";

}  // namespace exhibit::bus::message_id
