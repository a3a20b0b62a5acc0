#!/usr/bin/env bash
# The udev rule that gives exhibitd's group its devices, run by the real udev (`udevadm test`)
# against emulated USB devices (umockdev testbeds: the device's sysfs, with the binary
# "descriptors" attribute from which udev's usb_id builtin lists the interfaces):
#   - the phone exhibit-phonesim --usb plugs in (ADB, ff/42/01) gets group exhibit, mode 0660;
#   - MTP/PTP (06/01/01), mass storage (08/06/50) and an Apple device get it;
#   - a keyboard (03/01/01), the bootloader's fastboot (ff/42/03: it can flash a phone) and an
#     unknown vendor-specific interface (ff/ff/00) do not.
# Usage: udev-rule-test.sh RULES_FILE WORK_DIR   (root; RULES_FILE must be installed in a
#        udev rules folder: udevadm test reads the system's rules)
set -euo pipefail
rules=$1
work=$2
mkdir -p "$work"
name=$(basename "$rules")
group_gid=$(getent group exhibit | cut -d: -f3)
[[ -n $group_gid ]] || { echo "udev-rule-test: no group exhibit" >&2; exit 1; }
failures=0

# Prints what the rule did to the device at SYSFS_PATH: "exhibit 0660" or "none".
verdict() {  # LOG
  if grep -q "$name:[0-9]* GROUP $group_gid" "$1" && grep -q "$name:[0-9]* MODE 0660" "$1"; then
    echo "exhibit 0660"
  else
    echo none
  fi
}
expect() {  # WHAT EXPECTED LOG
  local got
  got=$(verdict "$3")
  if [[ $got == "$2" ]]; then
    printf '  %-44s %s\n' "$1" "$got"
  else
    printf '  %-44s %s, expected %s\n' "$1" "$got" "$2"
    sed 's/^/      /' "$3" | grep -E 'rules|ID_USB_INTERFACES' | head -20
    failures=$((failures + 1))
  fi
}

# 1. The phone exhibit-phonesim plugs in, with udevadm run inside its emulated bus.
phone=$work/phone
exhibit-phonesim --generate "$phone" >/dev/null
# shellcheck disable=SC2016 # expanded by that sh, inside the emulated bus
exhibit-phonesim --usb --root "$phone" --records "$phone/records.json" --serial UDEVTEST1 -- \
  sh -c 'udevadm test --action=add "$(readlink -f /sys/bus/usb/devices/1-1)"' \
  >"$work/phone.log" 2>&1 || { cat "$work/phone.log"; exit 1; }
expect "exhibit-phonesim's ADB phone (ff/42/01)" "exhibit 0660" "$work/phone.log"

# 2. Hand-made devices: a device descriptor, one configuration, one interface, one endpoint.
device() {  # NAME VENDOR PRODUCT CLASS SUBCLASS PROTOCOL: writes NAME.umockdev
  local v=$2 p=$3
  local dev="12010002000000 40${v:2:2}${v:0:2}${p:2:2}${p:0:2}0001010200 01"
  local conf="0902190001010080 32"
  local intf="0904000001${4}${5}${6}00"
  local ep="0705810308000a"
  cat >"$work/$1.umockdev" <<DEV
P: /devices/pci0000:00/0000:00:14.0/usb1/1-2
N: bus/usb/001/003
E: DEVNAME=/dev/bus/usb/001/003
E: DEVTYPE=usb_device
E: DRIVER=usb
E: PRODUCT=$((16#$v))/$((16#$p))/100
E: TYPE=0/0/0
E: BUSNUM=001
E: DEVNUM=003
E: MAJOR=189
E: MINOR=2
E: SUBSYSTEM=usb
A: idVendor=$v
A: idProduct=$p
A: bDeviceClass=00
A: bDeviceSubClass=00
A: bDeviceProtocol=00
A: bNumInterfaces= 1
A: bConfigurationValue=1
A: busnum=1
A: devnum=3
A: speed=480
H: descriptors=${dev// /}${conf// /}${intf}${ep}
DEV
  umockdev-run --device "$work/$1.umockdev" -- \
    udevadm test --action=add /sys/devices/pci0000:00/0000:00:14.0/usb1/1-2 >"$work/$1.log" 2>&1 ||
    { cat "$work/$1.log"; exit 1; }
}
device mtp 04e8 6860 06 01 01
expect "an MTP/PTP phone (06/01/01)" "exhibit 0660" "$work/mtp.log"
device stick 0781 5581 08 06 50
expect "a USB stick (08/06/50)" "exhibit 0660" "$work/stick.log"
device iphone 05ac 12a8 ff fe 02
expect "an Apple device (vendor 05ac)" "exhibit 0660" "$work/iphone.log"
device keyboard 046d c32b 03 01 01
expect "a keyboard (03/01/01)" none "$work/keyboard.log"
device fastboot 18d1 4ee0 ff 42 03
expect "a phone in fastboot (ff/42/03)" none "$work/fastboot.log"
device vendor 1234 5678 ff ff 00
expect "an unknown vendor-specific device (ff/ff/00)" none "$work/vendor.log"
# The hand-made descriptors are read by usb_id as a phone's would be.
grep -q 'ID_USB_INTERFACES=:080650:' "$work/stick.log" ||
  { echo "usb_id did not read the hand-made descriptors:"; grep ID_USB "$work/stick.log"; exit 1; }

if ((failures)); then
  echo "udev-rule-test: $failures device(s) treated wrongly" >&2
  exit 1
fi
