#!/usr/bin/env bash
# The udev rule that gives exhibitd's group its devices, run by the real udev (`udevadm test`)
# against emulated USB devices (umockdev testbeds: the device's sysfs, with the binary
# "descriptors" attribute from which udev's usb_id builtin lists the interfaces):
#   - the phone exhibit-phonesim --usb plugs in (ADB, ff/42/01) gets group exhibit, mode 0660;
#   - MTP/PTP (06/01/01), mass storage (08/06/50) and an Apple device get it;
#   - a keyboard (03/01/01), the bootloader's fastboot (ff/42/03: it can flash a phone) and an
#     unknown vendor-specific interface (ff/ff/00) do not;
#   - removable disks (a USB stick's disk, a card in an SD slot) get group exhibit, mode 0640,
#     the kernel's read-only flag and UDISKS_IGNORE; internal disks, eMMC and optical drives
#     nothing.
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

# 3. Removable disks (block devices): a stick's disk below its USB device, on "add" and on
# "change" (a card inserted in a reader), and a card in an SD slot get group exhibit, mode
# 0640, the kernel's read-only flag (blockdev --setro) and UDISKS_IGNORE; the stick's
# partition only UDISKS_IGNORE; an internal SATA disk, eMMC and a USB DVD drive nothing.
block_verdict() {  # LOG DEVNODE
  local got=none
  if grep -q "$name:[0-9]* GROUP $group_gid" "$1" && grep -q "$name:[0-9]* MODE 0640" "$1" &&
    grep -q "run: '/usr/sbin/blockdev --setro $2'" "$1"; then
    got="exhibit 0640 ro"
  fi
  grep -q '^UDISKS_IGNORE=1' "$1" && got="$got udisks-ignore"
  echo "$got"
}
block_expect() {  # WHAT SYSFS_PATH ACTION DEVNODE EXPECTED
  local log=$work/block-$(basename "$2")-$3.log got
  umockdev-run --device "$work/disks.umockdev" -- udevadm test --action="$3" "$2" >"$log" 2>&1 ||
    { cat "$log"; exit 1; }
  got=$(block_verdict "$log" "$4")
  if [[ $got == "$5" ]]; then
    printf '  %-44s %s\n' "$1" "$got"
  else
    printf '  %-44s %s, expected %s\n' "$1" "$got" "$5"
    sed 's/^/      /' "$log" | grep -E 'rules:|UDISKS|run:' | head -20
    failures=$((failures + 1))
  fi
}
usb=/devices/pci0000:00/0000:00:14.0/usb1
stick=$usb/1-4/1-4:1.0/host6/target6:0:0/6:0:0:0/block/sdb
ata=/devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda
sd=/devices/platform/sdhci.1/mmc_host/mmc1/mmc1:aaaa/block/mmcblk1
emmc=/devices/platform/sdhci.0/mmc_host/mmc0/mmc0:0001/block/mmcblk0
dvd=$usb/1-5/1-5:1.0/host7/target7:0:0/7:0:0:0/block/sr0
disk() {  # SYSFS_PATH NAME MAJOR MINOR SECTORS REMOVABLE [DEVTYPE]
  printf 'P: %s\nE: DEVNAME=/dev/%s\nE: DEVTYPE=%s\nE: MAJOR=%s\nE: MINOR=%s\nE: SUBSYSTEM=block\nA: dev=%s:%s\nA: size=%s\nA: removable=%s\n\n' \
    "$1" "$2" "${7:-disk}" "$3" "$4" "$3" "$4" "$5" "$6"
}
{
  printf 'P: %s/1-4\nE: DEVTYPE=usb_device\nE: SUBSYSTEM=usb\nA: idVendor=0781\nA: idProduct=5567\n\n' "$usb"
  printf 'P: %s/1-5\nE: DEVTYPE=usb_device\nE: SUBSYSTEM=usb\nA: idVendor=0e8d\nA: idProduct=1887\n\n' "$usb"
  printf 'P: /devices/platform/sdhci.1/mmc_host/mmc1/mmc1:aaaa\nE: SUBSYSTEM=mmc\nA: type=SD\n\n'
  printf 'P: /devices/platform/sdhci.0/mmc_host/mmc0/mmc0:0001\nE: SUBSYSTEM=mmc\nA: type=MMC\n\n'
  disk "$stick" sdb 8 16 131072 1
  disk "$stick/sdb1" sdb1 8 17 131008 0 partition
  disk "$ata" sda 8 0 500118192 0
  disk "$sd" mmcblk1 179 8 62333952 0
  disk "$emmc" mmcblk0 179 0 61071360 0
  disk "$dvd" sr0 11 0 2097152 1
} >"$work/disks.umockdev"
block_expect "a USB stick's disk (add)" "/sys$stick" add /dev/sdb "exhibit 0640 ro udisks-ignore"
block_expect "a card inserted in a USB reader (change)" "/sys$stick" change /dev/sdb \
  "exhibit 0640 ro udisks-ignore"
block_expect "a USB stick's partition" "/sys$stick/sdb1" add /dev/sdb1 "none udisks-ignore"
block_expect "a card in the kiosk's SD slot" "/sys$sd" add /dev/mmcblk1 \
  "exhibit 0640 ro udisks-ignore"
block_expect "an internal SATA disk" "/sys$ata" add /dev/sda none
block_expect "eMMC (mmc type MMC)" "/sys$emmc" add /dev/mmcblk0 none
block_expect "a USB DVD drive (sr0)" "/sys$dvd" add /dev/sr0 none

if ((failures)); then
  echo "udev-rule-test: $failures device(s) treated wrongly" >&2
  exit 1
fi
