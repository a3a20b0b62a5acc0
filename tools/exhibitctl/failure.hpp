// exhibitctl's edge: the exit codes it promises (docs/exhibitctl.md) and the one function that
// turns every D-Bus error, org.exhibit.Exhibit1.Error.* included, into a line for people and
// an exit code. Reentrant.
#pragma once

#include <expected>
#include <string>
#include <string_view>

namespace exhibit::ctl {

enum class Exit : int {
    ok = 0,
    failed = 1,          // the daemon failed (Error.Failed, Unsupported) or anything unexpected
    usage = 2,           // the command line is wrong
    invalid = 3,         // not found or invalid argument (Error.NotFound, Error.InvalidArgument)
    not_authorized = 4,  // Error.NotAuthorized, or the bus policy refused the call
    unreachable = 5,     // no bus, no exhibitd on it, or it stopped answering
    not_completed = 6,   // --wait: the session ended interrupted, failed or cancelled
    busy = 7,            // Error.Busy or Error.LowDisk: try again later
    audit_broken = 8,    // audit verify: the chain does not verify
    timed_out = 9,       // --wait --timeout ran out
    interrupted = 130,   // Ctrl-C while waiting (the daemon's work goes on)
};

constexpr int to_int(Exit e) {
    return static_cast<int>(e);
}

// What ends a command: an exit code and one clear line for stderr.
struct Failure {
    Exit exit = Exit::failed;
    std::string message;
};

template <class T>
using Outcome = std::expected<T, Failure>;
using Done = std::expected<void, Failure>;

inline std::unexpected<Failure> failure(Exit exit, std::string message) {
    return std::unexpected(Failure{exit, std::move(message)});
}

// THE mapping of a D-Bus error (name and message, as sd_bus_error carries them; sd-bus turns
// a local errno into a "System.Error.E…" name) to a Failure. `what` names the attempted
// action for the message, e.g. "StartExtraction".
Failure failure_from_bus_error(std::string_view name, std::string_view message,
                               std::string_view what);

}  // namespace exhibit::ctl
