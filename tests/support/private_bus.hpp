// A private system-type dbus-daemon for tests, using the project's own policy file
// (packaging/dbus/org.exhibit.Exhibit1.conf), or an allow-all policy to prove that exhibitd's
// own credential checks hold when the bus policy is loose.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

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
        std::string head =
            R"(<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <auth>EXTERNAL</auth>
  <listen>unix:path=)" +
            socket_ + R"(</listen>
)";
        if (policy == Policy::allow_all)
            return head + R"(  <policy context="default">
    <allow user="*"/><allow own="*"/><allow send_destination="*"/><allow receive_sender="*"/>
  </policy>
</busconfig>
)";
        // The defaults of Debian's system bus, then the project's policy.
        return head + R"(  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
  </policy>
  <include>)" + std::string(EXHIBIT_SOURCE_DIR) +
               R"(/packaging/dbus/org.exhibit.Exhibit1.conf</include>
</busconfig>
)";
    }

    std::string socket_;
    std::string address_;
    Process process_;
};

}  // namespace exhibit::testing
