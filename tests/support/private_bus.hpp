// A private system-type dbus-daemon for tests, using the project's own policy file
// (packaging/dbus/org.exhibit.Exhibit1.conf), or an allow-all policy to prove that exhibitd's
// own credential checks hold when the bus policy is loose.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include "common/bus_config.hpp"
#include "tests/support/process.hpp"

namespace exhibit::testing {

class PrivateBus {
  public:
    enum class Policy { project, allow_all };

    PrivateBus(const std::filesystem::path& dir, Policy policy = Policy::project) {
        socket_ = (dir / "bus").string();
        auto conf = dir / "bus.conf";
        std::ofstream(conf) << config_text(policy);
        process_ = Process::start(
            {"dbus-daemon", "--config-file=" + conf.string(), "--nofork", "--print-address"});
        auto line = process_.read_line(std::chrono::seconds(10));
        if (line && line->starts_with("unix:"))
            address_ = "unix:path=" + socket_;
    }
    bool ok() const { return !address_.empty(); }
    const std::string& address() const { return address_; }

  private:
    std::string config_text(Policy policy) const {
        if (policy == Policy::project)
            return private_system_bus_config(
                socket_, std::string(EXHIBIT_SOURCE_DIR) + "/packaging/dbus/org.exhibit.Exhibit1.conf");
        return R"(<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <auth>EXTERNAL</auth>
  <listen>unix:path=)" +
               socket_ + R"(</listen>
  <policy context="default">
    <allow user="*"/><allow own="*"/><allow send_destination="*"/><allow receive_sender="*"/>
  </policy>
</busconfig>
)";
    }

    std::string socket_;
    std::string address_;
    Process process_;
};

}  // namespace exhibit::testing
