#!/bin/sh
# Smoke test of exhibit-kiosk under the cage Wayland kiosk compositor, as on the appliance:
# cage runs as a non-root user (it refuses root), finds Xwayland, and the kiosk maps a
# full-screen surface whose first frame is not empty. Headless wlroots only ever shows a
# client's first frame, so this checks that much and no more (the screens themselves are
# checked by kiosk_test on the offscreen platform).
# Usage: cage_smoke.sh EXHIBIT_KIOSK_BINARY [USER]   (USER: default nobody; the packaging
#        test runs the installed kiosk as its own user, exhibit-kiosk)
set -eu
kiosk=$1
user=${2:-65534}
work=$(mktemp -d "${TMPDIR:-/tmp}/kiosk-cage.XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work"
# Xwayland's socket folder, as systemd-tmpfiles (x11.conf) makes it at boot: root's, sticky and
# world-writable. Made by an unprivileged cage instead, it would belong to that user, and
# every other user's cage would refuse it ("/tmp/.X11-unix not owned by root or us").
if [ "$(id -u)" -eq 0 ]; then
  install -d -o root -g root -m 1777 /tmp/.X11-unix
fi
mkdir -m 0700 "$work/runtime"
chown "$user:$user" "$work/runtime"
mkdir -m 0777 "$work/out"
cat >"$work/run.sh" <<RUN
"$kiosk" --bus unix:path=$work/no-bus --config /dev/null &
sleep 5
grim "$work/out/first-frame.png"
kill \$!
RUN
status=0
timeout 60 env -i PATH=/usr/bin:/bin HOME="$work/out" XDG_RUNTIME_DIR="$work/runtime" \
  WLR_BACKENDS=headless WLR_LIBINPUT_NO_DEVICES=1 WLR_RENDERER=pixman \
  QT_QPA_PLATFORM=wayland QT_QUICK_BACKEND=software QT_WAYLAND_DISABLE_WINDOWDECORATION=1 \
  setpriv --reuid="$user" --regid="$user" --clear-groups cage -d -- sh "$work/run.sh" \
  >"$work/cage.log" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
  echo "cage exited with status $status:"; grep -v 'Basic output test failed' "$work/cage.log" | tail -20
  exit 1
fi
shot="$work/out/first-frame.png"
[ -s "$shot" ] || { echo "grim took no screenshot"; tail -20 "$work/cage.log"; exit 1; }
size=$(stat -c %s "$shot")
# A uniform 1280x720 frame compresses to about 1 KiB; the kiosk's "starting" screen (a picture
# and large text) to about 20 KiB.
if [ "$size" -lt 8000 ]; then
  echo "the kiosk's first frame looks empty ($size bytes)"; exit 1
fi
echo "cage ran exhibit-kiosk as uid $user; first frame $size bytes"
if [ -n "${EXHIBIT_KIOSK_SHOTS:-}" ]; then mkdir -p "$EXHIBIT_KIOSK_SHOTS" && cp "$shot" "$EXHIBIT_KIOSK_SHOTS/cage-first-frame.png"; fi
