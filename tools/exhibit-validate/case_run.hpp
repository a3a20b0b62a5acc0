// One case, run for real in a world of its own under a work folder: exhibit-phonesim serves
// the case's generated phone over ADB/TCP on 127.0.0.1, or plugs it into an emulated USB bus
// (ADB, or MTP only) and runs exhibitd on it; a private system-type dbus-daemon
// carries exhibit's policy, exhibitd runs with a store of its own (never the kiosk's), a tus
// server on 127.0.0.1 is the DFU store; exhibitctl takes the case's scope, urgent, and waits;
// exhibit-verify checks what the DFU store holds. Everything is stopped by PID at the end.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "tools/exhibit-validate/pack.hpp"

namespace exhibit::validate {

struct Programs {
    // The folder of exhibitd, exhibitctl, exhibit-phonesim and exhibit-verify; empty: each is
    // looked up in PATH (installed: exhibitd in /usr/sbin, the others in /usr/bin).
    std::filesystem::path bin;
    std::string program(const char* name) const {
        return bin.empty() ? std::string(name) : (bin / name).string();
    }
    std::vector<std::string> tus;       // the tus server; + --port 0 --dir DIR --http
    std::filesystem::path dbus_policy;  // org.exhibit.Exhibit1.conf
};

struct CaseRun {
    Observed observed;
    std::string problem;  // the world could not be set up (the case fails with it)
    std::chrono::milliseconds took{0};
};

CaseRun run_case(const Case& c, const Programs& programs, const std::filesystem::path& work);

}  // namespace exhibit::validate
