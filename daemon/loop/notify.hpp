// The service manager's notification protocol (sd_notify): readiness, status text, stopping.
// Each function returns true when a message was sent and false when the process was not
// started by systemd ($NOTIFY_SOCKET unset); sending never unsets the environment, so the
// loop's watchdog pings keep working. Thread-safe (sd_notify opens its own socket per call).
#pragma once

#include <string>
#include <string_view>

#include "common/error.hpp"

namespace exhibit::loop {

// Sends `state` as is ("KEY=value" lines).
Result<bool> notify(std::string_view state);

// READY=1 with a STATUS= line: call once, when the daemon can serve requests.
Result<bool> notify_ready(std::string_view status);
Result<bool> notify_status(std::string_view status);
// STOPPING=1 with a STATUS= line: call when shutdown begins.
Result<bool> notify_stopping(std::string_view status);

// Whether the service manager expects watchdog pings from this process ($WATCHDOG_USEC set
// and $WATCHDOG_PID, if set, naming it).
bool watchdog_expected();

// `status` made fit for one STATUS= line: control characters become spaces and it is cut to
// a length systemctl shows whole.
std::string status_line(std::string_view status);

}  // namespace exhibit::loop
