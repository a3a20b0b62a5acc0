# shellcheck shell=bash
# Sourced by scripts/demo, bench/kiosk/run and tests/packaging/install-test.sh: the
# configuration of a private system-type dbus-daemon, with the defaults of Debian's system bus
# and then exhibit's policy file (the C++ tests and exhibit-validate make the same: common/bus_config.hpp).
# Usage: write_bus_config FILE SOCKET_PATH POLICY_FILE
write_bus_config() {
  cat >"$1" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <auth>EXTERNAL</auth>
  <listen>unix:path=$2</listen>
  <policy context="default">
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
  <include>$3</include>
</busconfig>
CONF
}
