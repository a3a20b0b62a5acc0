#include "daemon/loop/notify.hpp"

#include <systemd/sd-daemon.h>

#include <fmt/format.h>

namespace exhibit::loop {

namespace {
constexpr std::size_t kMaxStatus = 512;
}

Result<bool> notify(std::string_view state) {
    std::string text(state);
    int r = sd_notify(0, text.c_str());
    if (r < 0)
        return std::unexpected(Error{Errc::io, "cannot notify the service manager", -r});
    return r > 0;
}

Result<bool> notify_ready(std::string_view status) {
    return notify(fmt::format("READY=1\nSTATUS={}", status_line(status)));
}

Result<bool> notify_status(std::string_view status) {
    return notify(fmt::format("STATUS={}", status_line(status)));
}

Result<bool> notify_stopping(std::string_view status) {
    return notify(fmt::format("STOPPING=1\nSTATUS={}", status_line(status)));
}

bool watchdog_expected() {
    return sd_watchdog_enabled(0, nullptr) > 0;
}

std::string status_line(std::string_view status) {
    std::string out(status.substr(0, kMaxStatus));
    for (char& c : out) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f)
            c = ' ';
    }
    return out;
}

}  // namespace exhibit::loop
