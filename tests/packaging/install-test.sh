#!/usr/bin/env bash
# exhibit's Debian packages as a force's administrator meets them, on this machine, as root:
#   1. build them (scripts/package) and run lintian on them: no error, no warning;
#   2. install a previous build (the same packages re-versioned ~prev1) with apt, and check
#      every file, user, group, the udev rule, the units (systemd-analyze verify and their
#      exposure targets), the kiosk session (cage, as exhibit-kiosk) and one case of the
#      installed validation pack (exhibit-validate with the installed programs);
#   3. run the installed exhibitd as the unit would (user exhibit, its umask and environment,
#      no systemd as PID 1 here) with the installed exhibit-phonesim's emulated USB phone,
#      a private system bus with the installed policy and a tus server: evidence, not delivered;
#   4. upgrade to this build with apt: the store is kept and opened, the evidence delivered
#      and checked with the installed exhibit-verify;
#   5. purge with undelivered evidence: the store (and its user) is kept and the purge says
#      where; reinstall, deliver, purge again: everything is gone;
# and leaves the machine as it found it (packages, users, folders, default target: the test
# sets multi-user.target, as on a server, for the kiosk's installation to change).
# Usage: tests/packaging/install-test.sh   (ctest -L packaging; scripts/test runs it)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
source scripts/lib/bus.sh
source scripts/lib/test-pki.sh

step() { printf '\n== %s\n' "$*"; }
textfile_dir=/var/lib/prometheus/node-exporter  # prometheus-node-exporter's default
fail() { printf 'install-test: FAIL: %s\n' "$*" >&2; exit 1; }
check() {  # DESCRIPTION COMMAND...: runs the command, fails the test with DESCRIPTION
  local what=$1; shift
  "$@" >/dev/null 2>&1 || fail "$what (command: $*)"
}

[[ $(id -u) -eq 0 ]] || fail "must run as root: it installs packages and adds system users"
packages=(exhibitd exhibit-kiosk exhibit-verify exhibit-phonesim)
for p in "${packages[@]}"; do
  if dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qv not-installed; then
    fail "$p is already on this machine; the test would change it (remove it first)"
  fi
done
for u in exhibit exhibit-kiosk; do
  getent passwd "$u" >/dev/null && fail "user $u already exists; the test would change it"
done
[[ ! -e /var/lib/exhibit && ! -e /etc/exhibit ]] || fail "/var/lib/exhibit or /etc/exhibit exists"
# The default target as found (a link in /etc, or none), and a server's default for the test:
# the kiosk's installation must switch it to graphical.target and its purge switch it back.
default_link=/etc/systemd/system/default.target
default_link_before=$(readlink "$default_link" 2>/dev/null || true)
ln -sfn /lib/systemd/system/multi-user.target "$default_link"

work=$(mktemp -d /var/tmp/exhibit-install-test.XXXXXX)
chmod 0755 "$work"
pids=()
stop_all() {
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
cleanup() {
  local rc=$?
  stop_all
  # Whatever happened, the machine is left as found.
  export DEBIAN_FRONTEND=noninteractive
  dpkg --purge "${packages[@]}" >/dev/null 2>&1 || true
  rm -rf /var/lib/exhibit /var/lib/exhibit-kiosk /etc/exhibit
  rm -f "$textfile_dir/exhibit.prom"
  # The package's ACL on node_exporter's directory (the purge removes it too; by uid, as
  # the user may already be gone).
  if [[ -n ${exhibit_uid:-} ]] && getfacl -c -n "$textfile_dir" 2>/dev/null | grep -q "^user:$exhibit_uid:"; then
    setfacl -x "u:$exhibit_uid" "$textfile_dir" 2>/dev/null || true
    getfacl -c -n "$textfile_dir" 2>/dev/null | grep -q '^\(user\|group\):[0-9]' ||
      setfacl -b "$textfile_dir" 2>/dev/null || true
  fi
  for u in exhibit-kiosk exhibit; do getent passwd "$u" >/dev/null && userdel "$u"; done
  for g in exhibit-kiosk exhibit-admin exhibit; do getent group "$g" >/dev/null && groupdel "$g"; done
  if [[ -n $default_link_before ]]; then
    ln -sfn "$default_link_before" "$default_link"
  else
    rm -f "$default_link"
  fi
  if ((rc)); then
    echo "install-test: logs kept in $work" >&2
  else
    rm -rf "$work"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "building the packages (scripts/package)"
./scripts/package | tee "$work/package.log"
version=$(sed -n 's/^project(exhibit VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
debs=()
for p in "${packages[@]}"; do
  f=dist/${p}_${version}_$(dpkg --print-architecture).deb
  [[ -f $f ]] || fail "scripts/package made no $f"
  debs+=("$top/$f")
done

step "lintian: no errors, no warnings"
lintian --fail-on error,warning --tag-display-limit 0 "${debs[@]}" | tee "$work/lintian.log" ||
  fail "lintian found errors or warnings"

step "the previous build (the same packages, version ${version}~prev1)"
mkdir -p "$work/prev"
prev=()
for deb in "${debs[@]}"; do
  unpacked=$work/prev/$(basename "$deb" .deb)
  dpkg-deb -R "$deb" "$unpacked"
  sed -i -e "s/^Version: .*/Version: ${version}~prev1/" \
    -e "s/(= ${version})/(= ${version}~prev1)/g" "$unpacked/DEBIAN/control"
  out=$work/prev/$(basename "$deb" | sed "s/_${version}_/_${version}~prev1_/")
  dpkg-deb --root-owner-group -b "$unpacked" "$out" >/dev/null
  prev+=("$out")
done

step "installing the previous build with apt"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends "${prev[@]}" >"$work/apt-install.log" 2>&1 ||
  { tail -20 "$work/apt-install.log"; fail "apt-get install of the packages failed"; }

step "files, users, groups"
exhibit_uid=$(id -u exhibit)
for f in /usr/sbin/exhibitd /usr/bin/exhibitctl /usr/bin/exhibit-kiosk /usr/bin/exhibit-verify \
  /usr/bin/exhibit-fleet /usr/share/exhibit/prometheus/exhibit-alerts.yml \
  /usr/lib/systemd/catalog/exhibit.catalog \
  /usr/bin/exhibit-phonesim /usr/bin/exhibit-validate /usr/share/exhibit/validation/pack.json \
  /etc/exhibit/exhibitd.conf /etc/exhibit/kiosk.conf \
  /etc/exhibit/notices/sample-2026-1.md /usr/share/dbus-1/system.d/org.exhibit.Exhibit1.conf \
  /usr/share/dbus-1/interfaces/org.exhibit.Exhibit1.xml \
  /lib/systemd/system/exhibitd.service /lib/systemd/system/exhibit-kiosk.service \
  /lib/udev/rules.d/60-exhibitd.rules /usr/lib/sysusers.d/exhibitd.conf \
  /usr/lib/sysusers.d/exhibit-kiosk.conf /usr/lib/tmpfiles.d/exhibitd.conf \
  /usr/lib/tmpfiles.d/exhibit-kiosk.conf; do
  [[ -f $f ]] || fail "$f is not installed"
done
for page in man8/exhibitd.8 man5/exhibitd.conf.5 man1/exhibitctl.1 man1/exhibit-verify.1 \
  man1/exhibit-fleet.1 man1/exhibit-phonesim.1 man1/exhibit-validate.1 man1/exhibit-kiosk.1; do
  name=$(basename "$page"); name=${name%.*}
  lexgrog "/usr/share/man/$page.gz" 2>/dev/null | grep -q ": \"$name - " ||
    fail "man page $page has no NAME line for whatis"
done
grep -qx '/etc/exhibit/exhibitd.conf' /var/lib/dpkg/info/exhibitd.conffiles ||
  fail "exhibitd.conf is not a conffile (an upgrade would overwrite the site's changes)"
[[ $(getent passwd exhibit | cut -d: -f6,7) == /var/lib/exhibit:/usr/sbin/nologin ]] ||
  fail "user exhibit: $(getent passwd exhibit)"
[[ $(id -gn exhibit-kiosk) == exhibit-kiosk ]] || fail "exhibit-kiosk's group is $(id -gn exhibit-kiosk)"
check "group exhibit-admin" getent group exhibit-admin
[[ $(stat -c '%U:%G %a' /var/lib/exhibit) == "exhibit:exhibit 700" ]] ||
  fail "/var/lib/exhibit is $(stat -c '%U:%G %a' /var/lib/exhibit)"
[[ $(stat -c '%U %a' /var/lib/exhibit-kiosk/receipts) == "exhibit-kiosk 700" ]] ||
  fail "/var/lib/exhibit-kiosk/receipts is $(stat -c '%U %a' /var/lib/exhibit-kiosk/receipts)"
[[ $(systemctl get-default) == graphical.target ]] ||
  fail "the kiosk did not make graphical.target the default ($(systemctl get-default))"
# systemd's dpkg trigger compiled the message catalog: journalctl -x explains exhibitd's events.
journalctl --list-catalog 5253a2a1c8284727983c794769760251 2>/dev/null | grep -q 'exhibitd started' ||
  fail "the journal's catalog does not know exhibitd's MESSAGE_IDs"
promtool check rules /usr/share/exhibit/prometheus/exhibit-alerts.yml >/dev/null ||
  fail "promtool refuses the installed alert rules"
# node_exporter's textfile directory: user exhibit may write there (the postinst's ACL).
[[ -d $textfile_dir ]] || fail "$textfile_dir is missing (scripts/install-deps installs prometheus-node-exporter)"
setpriv --reuid=exhibit --regid=exhibit --init-groups touch "$textfile_dir/.exhibit-probe" ||
  fail "user exhibit cannot write $textfile_dir: the postinst's ACL was not applied"
rm -f "$textfile_dir/.exhibit-probe"

step "the installed validation pack: one case, run by the installed programs"
# exhibitd from /usr/sbin and the others from /usr/bin (PATH), the installed pack and policy.
exhibit-validate --out "$work/validation" --case 02-scope-dates-and-categories \
  --tus-server "node $PWD/tests/peers/tus-server/server.mjs" >"$work/validate.log" 2>&1 ||
  { cat "$work/validate.log"; fail "the installed exhibit-validate failed"; }
grep -q '^1 of 1 cases passed' "$work/validate.log" || { cat "$work/validate.log"; fail "no pass"; }
[[ -s $work/validation/report.pdf ]] || fail "the installed exhibit-validate wrote no PDF"

step "the udev rule against emulated phones (udevadm test in a umockdev testbed)"
"$top/tests/packaging/udev-rule-test.sh" /lib/udev/rules.d/60-exhibitd.rules "$work/udev"

step "units: systemd-analyze verify, and their exposure"
for unit in exhibitd exhibit-kiosk; do
  systemd-analyze verify "/lib/systemd/system/$unit.service" >"$work/verify-$unit.log" 2>&1 ||
    { cat "$work/verify-$unit.log"; fail "systemd-analyze verify $unit.service"; }
done
# --threshold is on the 0-100 scale: exhibitd at most 1.5, the kiosk session at most 3.0.
for target in exhibitd:15 exhibit-kiosk:30; do
  unit=${target%:*}
  systemd-analyze security --offline=yes --threshold="${target#*:}" \
    "/lib/systemd/system/$unit.service" >"$work/security-$unit.log" 2>&1 ||
    { grep -E 'Overall' "$work/security-$unit.log"; fail "$unit.service is over its exposure target"; }
  grep -E 'Overall' "$work/security-$unit.log"
done

step "the kiosk session: cage runs the installed exhibit-kiosk as exhibit-kiosk"
"$top/tests/kiosk/cage_smoke.sh" /usr/bin/exhibit-kiosk exhibit-kiosk

# --- a kiosk at work: exhibitd as the unit runs it --------------------------------------------
tls=$work/tls
make_test_pki "$tls" "exhibit install-test CA"

wait_for() {  # FILE PATTERN WHAT
  local pid=${pids[-1]}
  for _ in $(seq 300); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  cat "$1" >&2; fail "$3 did not start"
}

node tests/peers/tus-server/server.mjs --port 0 --dir "$work/dfu" --cert "$tls/server.pem" \
  --key "$tls/server.key" --ca "$tls/ca.pem" >"$work/tus.log" 2>&1 &
pids+=($!)
wait_for "$work/tus.log" '^listening' "the tus server"
tus_port=$(awk '/^listening/ {print $2}' "$work/tus.log")
tus_pid=${pids[-1]}

write_bus_config "$work/bus.conf" "$work/bus" "/usr/share/dbus-1/system.d/org.exhibit.Exhibit1.conf"
dbus-daemon --config-file="$work/bus.conf" --nofork --print-address >"$work/bus.address" 2>"$work/bus.log" &
pids+=($!)
wait_for "$work/bus.address" 'unix:' "dbus-daemon"
bus="unix:path=$work/bus"

# The site's settings, as an administrator writes them (docs/install.md). The overnight
# window is set to one that is closed while the test runs (the default, 22:00 to 06:00, is
# open in the evening), so that an extraction stays undelivered until a sync asks for it.
window_start=$(date -d '+3 hours' +%H:00)
window_end=$(date -d '+3 hours' +%H:01)
cat >"$work/50-site.conf" <<CONF
[daemon]
kiosk_id = "install-test"
log_target = "stderr"
# no systemd here to ping
watchdog = false
[store]
min_free_mb = 0
[dbus]
bus = "$bus"
[upload]
endpoint = "https://127.0.0.1:$tus_port/files/"
ca_file = "/etc/exhibit/tls/ca.pem"
client_cert = "/etc/exhibit/tls/client.pem"
client_key = "/etc/exhibit/tls/client.key"
window_start = "$window_start"
window_end = "$window_end"
CONF
configure_site() {  # the certificates where docs/install.md puts them, and the drop-in
  install -d -m 0750 -g exhibit /etc/exhibit/tls
  install -m 0640 -g exhibit "$tls/ca.pem" "$tls/client.pem" "$tls/client.key" /etc/exhibit/tls/
  install -m 0644 "$work/50-site.conf" /etc/exhibit/exhibitd.conf.d/
}
configure_site

# The phone: generated and served by the installed exhibit-phonesim, which plugs it into an
# emulated USB bus and runs exhibitd on that bus, both as user exhibit.
phone=$work/phone
install -d -o exhibit -g exhibit -m 0700 "$work/exhibit-tmp"
exhibit-phonesim --generate "$phone" >/dev/null
chmod -R a+rX "$phone"

start_exhibitd() {  # LOG: exhibitd as exhibitd.service starts it
  # User=exhibit, UMask=0077, StateDirectory=exhibit ($STATE_DIRECTORY), the unit's
  # LimitNOFILE; the configuration from /etc/exhibit.
  setpriv --reuid=exhibit --regid=exhibit --init-groups \
    env -i PATH=/usr/bin:/bin LANG=C.UTF-8 STATE_DIRECTORY=/var/lib/exhibit \
    CONFIGURATION_DIRECTORY=/etc/exhibit TMPDIR="$work/exhibit-tmp" \
    sh -c 'umask 0077; ulimit -n 65536; exec "$@"' exhibitd \
    exhibit-phonesim --usb --root "$phone" --records "$phone/records.json" \
    --serial PKGTEST1 --model "Pixel 8" --manufacturer Google -- /usr/sbin/exhibitd \
    >"$1.phonesim" 2>"$1" &
  pids+=($!)
  wait_for "$1" 'started: kiosk' "the installed exhibitd"
  for _ in $(seq 100); do
    ctl devices --json 2>/dev/null | grep -q '"d1"' && return 0
    sleep 0.1
  done
  fail "the installed exhibitd does not see the emulated phone"
}
stop_exhibitd() {  # as systemd stops it: SIGTERM, then wait
  local pid=${pids[-1]}
  kill -TERM "$pid"
  wait "$pid" || fail "exhibitd did not stop cleanly (status $?)"
  unset 'pids[-1]'
}
ctl() { exhibitctl --bus "$bus" "$@"; }
extract() {  # EXHIBIT_REFERENCE
  ctl extract d1 --case "CR/2026/0099" --exhibit "$1" --officer "PC 4711" --basis consent \
    --notice "Digital consent notice v3" --agreed-by "phone owner" \
    --categories photos,messages --wait >>"$work/exhibitctl.log" 2>&1 ||
    { tail -20 "$work/exhibitctl.log"; fail "extraction $1 failed"; }
}
undelivered() { runuser -u exhibit -- /usr/sbin/exhibitd --undelivered 2>&1 || true; }

step "the installed exhibitd, as user exhibit: an extraction, not yet delivered"
start_exhibitd "$work/exhibitd-1.log"
extract "PKG/1"
# As its service, exhibitd writes its metrics for node_exporter without being told where.
for _ in $(seq 30); do
  grep -q '^exhibit_items{state="complete"} [1-9]' "$textfile_dir/exhibit.prom" 2>/dev/null && break
  sleep 0.2
done
grep -q '^exhibit_items{state="complete"} [1-9]' "$textfile_dir/exhibit.prom" ||
  fail "the installed exhibitd did not write its metrics to $textfile_dir/exhibit.prom"
[[ $(stat -c '%U %a' "$textfile_dir/exhibit.prom") == "exhibit 644" ]] ||
  fail "exhibit.prom is $(stat -c '%U %a' "$textfile_dir/exhibit.prom"); node_exporter must read it"
promtool check metrics <"$textfile_dir/exhibit.prom" || fail "promtool refuses exhibit.prom"
stop_exhibitd
grep -q '^exhibit_up 0$' "$textfile_dir/exhibit.prom" || fail "exhibit_up is not 0 after the stop"
[[ $(stat -c %U /var/lib/exhibit/exhibit.db) == exhibit ]] || fail "the catalog is not exhibit's"
if find /var/lib/exhibit -not -user exhibit | grep -q .; then
  find /var/lib/exhibit -not -user exhibit -ls; fail "files in the store not owned by exhibit"
fi
# Public keys (*.pub) may be readable; the store's folder (0700) keeps others out of all.
if find /var/lib/exhibit -type f -perm /077 ! -name '*.pub' | grep -q .; then
  find /var/lib/exhibit -type f -perm /077 ! -name '*.pub' -ls; fail "store files readable by others"
fi
[[ $(stat -c %a /var/lib/exhibit) == 700 ]] || fail "/var/lib/exhibit is $(stat -c %a /var/lib/exhibit)"
count=$(undelivered)
echo "  $count"
[[ $count == "/var/lib/exhibit: "*" items, "*" without a DFU receipt" && $count != *" 0 without"* ]] ||
  fail "exhibitd --undelivered: $count"
catalog_before=$(sha256sum </var/lib/exhibit/exhibit.db)

step "upgrading to this build with apt; the store is kept"
apt-get install -y -qq --no-install-recommends "${debs[@]}" >"$work/apt-upgrade.log" 2>&1 ||
  { tail -20 "$work/apt-upgrade.log"; fail "apt-get upgrade to $version failed"; }
[[ $(dpkg-query -W -f='${Version}' exhibitd) == "$version" ]] || fail "exhibitd was not upgraded"
[[ $(sha256sum </var/lib/exhibit/exhibit.db) == "$catalog_before" ]] ||
  fail "the upgrade changed the catalog"
[[ -f /etc/exhibit/exhibitd.conf.d/50-site.conf ]] || fail "the upgrade lost the site's drop-in"

step "the upgraded exhibitd opens the store and delivers; exhibit-verify checks the DFU's copy"
start_exhibitd "$work/exhibitd-2.log"
ctl sync --now --wait --timeout 300 >>"$work/exhibitctl.log" 2>&1 ||
  { tail -20 "$work/exhibitctl.log"; fail "sync after the upgrade failed"; }
fingerprint=$(ctl status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["health"]["key_fingerprint"])')
exhibit-verify --fingerprint "$fingerprint" "$work/dfu" | tee "$work/verify-1.log" ||
  fail "exhibit-verify rejected what the installed exhibitd delivered"

step "a second extraction, left undelivered; purge"
extract "PKG/2"
stop_exhibitd
uid_before=$(id -u exhibit)
apt-get purge -y -qq "${packages[@]}" >"$work/purge-1.log" 2>&1 ||
  { tail -20 "$work/purge-1.log"; fail "apt-get purge failed"; }
cat "$work/purge-1.log"
grep -q "NOT removing /var/lib/exhibit" "$work/purge-1.log" || fail "the purge did not say it kept the store"
[[ -f /var/lib/exhibit/exhibit.db ]] || fail "THE PURGE DELETED UNDELIVERED EVIDENCE"
getent passwd exhibit >/dev/null || fail "the purge removed the user that owns the kept store"
[[ ! -e /etc/exhibit/exhibitd.conf ]] || fail "the purge left /etc/exhibit/exhibitd.conf"
! getent passwd exhibit-kiosk >/dev/null || fail "the purge left user exhibit-kiosk"
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ -z $status || $status == not-installed ]] || fail "$p is $status after the purge"
done

step "reinstalling: the kept store is exhibit's again; deliver, then purge removes everything"
apt-get install -y -qq --no-install-recommends "${debs[@]}" >"$work/apt-reinstall.log" 2>&1 ||
  { tail -20 "$work/apt-reinstall.log"; fail "reinstall failed"; }
[[ $(id -u exhibit) == "$uid_before" ]] || fail "user exhibit changed UID"
configure_site
start_exhibitd "$work/exhibitd-3.log"
ctl sync --now --wait --timeout 300 >>"$work/exhibitctl.log" 2>&1 ||
  { tail -20 "$work/exhibitctl.log"; fail "sync after the reinstall failed"; }
exhibit-verify --fingerprint "$fingerprint" "$work/dfu" | tee "$work/verify-2.log" ||
  fail "exhibit-verify rejected the second delivery"
stop_exhibitd
count=$(undelivered)
[[ $count == *" 0 without a DFU receipt" ]] || fail "still undelivered after sync: $count"
apt-get purge -y -qq "${packages[@]}" >"$work/purge-2.log" 2>&1 ||
  { tail -20 "$work/purge-2.log"; fail "the second purge failed"; }
[[ ! -e /var/lib/exhibit ]] || fail "the purge kept /var/lib/exhibit although everything was delivered"
[[ ! -e /var/lib/exhibit-kiosk && ! -e /etc/exhibit ]] || fail "the purge left /var/lib/exhibit-kiosk or /etc/exhibit"
[[ ! -e $textfile_dir/exhibit.prom ]] || fail "the purge left $textfile_dir/exhibit.prom"
if [[ -n $(getfacl -c -s -n "$textfile_dir" 2>/dev/null) ]]; then
  getfacl -n "$textfile_dir"; fail "the purge left an ACL on $textfile_dir"
fi
for u in exhibit exhibit-kiosk; do
  ! getent passwd "$u" >/dev/null || fail "the purge left user $u"
done
for g in exhibit exhibit-kiosk exhibit-admin; do
  ! getent group "$g" >/dev/null || fail "the purge left group $g"
done
[[ $(systemctl get-default) == multi-user.target ]] ||
  fail "the purge did not give back the default target multi-user.target ($(systemctl get-default))"
stop_all
kill -0 "$tus_pid" 2>/dev/null && fail "the tus server outlived the test"
echo
echo "install-test: passed (packages $version, previous ${version}~prev1)"
