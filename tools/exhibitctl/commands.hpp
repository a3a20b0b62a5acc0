// The commands of exhibitctl (docs/exhibitctl.md). Each validates its arguments before it
// connects, talks to exhibitd through the D-Bus API only, writes its result to stdout (plain
// text, or JSON with --json) and ends with a Failure (exit code + one line) when it fails.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "tools/exhibitctl/failure.hpp"
#include "tools/exhibitctl/requests.hpp"

namespace exhibit::ctl {

struct Globals {
    std::string bus = "system";
    std::string host;  // --host [USER@]HOST[:PORT]: that machine's system bus, over ssh
    bool json = false;
    bool tty = false;          // stdout is a terminal: --wait draws a live bar
    std::size_t columns = 80;  // its width
    std::optional<std::chrono::seconds> wait_timeout;  // --timeout for --wait
};

struct ExtractArgs {
    std::string device;
    CaseArgs kase;
    ScopeArgs scope;
    bool urgent = false;
    bool wait = false;
};

Done cmd_status(const Globals& g);
Done cmd_devices(const Globals& g);
Done cmd_preview(const Globals& g, const std::string& device, const ScopeArgs& scope);
Done cmd_sessions(const Globals& g);
Done cmd_session(const Globals& g, const std::string& session);
Done cmd_receipt(const Globals& g, const std::string& session);
Done cmd_queue(const Globals& g);
Done cmd_audit_verify(const Globals& g);

Done cmd_extract(const Globals& g, const ExtractArgs& args);
Done cmd_sync(const Globals& g, bool wait);
Done cmd_cancel_session(const Globals& g, const std::string& session);
Done cmd_cancel_upload(const Globals& g, const std::string& item);
Done cmd_retry_upload(const Globals& g, const std::string& item);
Done cmd_retry_manifest(const Globals& g, const std::string& session);
Done cmd_retry_failed(const Globals& g);
Done cmd_priority(const Globals& g, const std::string& item, const std::string& lane);
Done cmd_device_add(const Globals& g, const std::string& address);
Done cmd_reload(const Globals& g);

Done cmd_officer_add(const Globals& g, const std::string& id, const std::string& name);
Done cmd_officer_remove(const Globals& g, const std::string& id);
Done cmd_officer_unlock(const Globals& g, const std::string& id);
Done cmd_officer_list(const Globals& g);

}  // namespace exhibit::ctl
