#!/bin/sh
# Copies the screenshots the kiosk's tests saved into docs/kiosk/ under the names the
# officer's guide (docs/kiosk.md) uses. Run after `ctest -L kiosk` (or kiosk_test), from
# the top of the tree: tests/kiosk/curate-screens.sh [SHOTS_DIR]
set -eu
shots=${1:-build/tests/kiosk-shots}
out=docs/kiosk
mkdir -p "$out"
pick() {  # TEST PATTERN NAME: the first screenshot of TEST whose name ends in PATTERN.png
  f=$(ls "$shots/$1/"*"-$2.png" 2>/dev/null | head -1)
  [ -n "$f" ] || { echo "not taken (yet): $1 $2" >&2; return 0; }
  cp "$f" "$out/$3.png"
}
j=journey-1920x1080
pick $j ready 01-ready
pick $j signin 02-signin
pick wrong-pin wrong-pin 03-wrong-pin
pick wrong-pin locked 03b-locked
pick $j case-keyboard 04-case
pick $j phone 05-phone
pick $j phone-allow 05b-phone-allow
pick $j phone-ready 06-phone-ready
pick $j notice 07-notice
pick $j notice-agreed 08-notice-agreed
pick $j scope-date-picker 09-scope-date-picker
pick $j scope 10-scope
pick cancel cancel-confirm 13-cancel-confirm
pick unplugged copying 11-copying
pick $j receipt 12-receipt
pick unplugged copy-interrupted 14-copy-interrupted
pick $j receipt-delivered 15-receipt-delivered
pick restart restarting 16-restarting
pick restart sign-in-again 17-sign-in-again
pick idle signed-out 18-signed-out
pick notice-version notice-v2 19-notice-v2
pick journey-1280x800 case-keyboard 20-case-1280x800
pick journey-1280x800 phone 21-phone-1280x800
pick journey-1280x800 scope 22-scope-1280x800
pick journey-1280x800 receipt 23-receipt-1280x800
echo "copied into $out/"
