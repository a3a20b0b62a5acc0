// Fixed journald MESSAGE_IDs of the event loop's events (made with `systemd-id128 new`;
// never change or reuse one: journal queries and alerts at the DFU match on them). Each is
// explained in packaging/journald/exhibit.catalog; tests/journal checks the two agree.
#pragma once

#include <string_view>

namespace exhibit::loop::message_id {

// A loop callback raised; the loop stops (exhibitd exits to be restarted). Fields:
// EXHIBIT_EVENT_SOURCE, EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kCallbackFailed = "72b83752d331443d8aad2ec11f7b988e";
// A periodic timer could not be armed again. Fields: EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kTimerRearmFailed = "59cb3970768a4b59ad4b74a30983931f";
// A message to the service manager (sd_notify) could not be sent. Fields:
// EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kNotifyFailed = "47b9d396b61644aba8c8de0aef4d5a10";

}  // namespace exhibit::loop::message_id
