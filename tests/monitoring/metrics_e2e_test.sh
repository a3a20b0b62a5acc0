#!/usr/bin/env bash
# The DFU's monitoring end to end, with the real components: exhibitd (a phone plugged in over
# the emulated USB bus, a tus store over mTLS, a private bus) writes its metrics file; the real
# prometheus-node-exporter serves it with the textfile collector; a real prometheus scrapes it
# every second and evaluates the shipped alert rules. The tus store is killed (SIGKILL) and an
# urgent extraction made: the failure counter rises and the uploads-failing alert's expression
# turns true; the store comes up again: the evidence is delivered, the figures read back from Prometheus's HTTP
# API are the right ones and the alert clears; after a clean stop exhibit_up is 0. The
# heartbeats exhibitd sends to the DFU store are read by exhibit-fleet, which refuses an
# altered one and a replayed one. No metric, heartbeat or line exhibitd logs carries the case
# or exhibit reference, the officer, the phone's serial or a file name from the phone.
# Usage: metrics_e2e_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1
build=$2
bin=$build/bin
source "$src/scripts/lib/bus.sh"
source "$src/tests/support/e2e.sh"
source "$src/scripts/lib/test-pki.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/exhibit-metrics-e2e.XXXXXX")
pids=()
cleanup() {
  local rc=$?
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if ((rc != 0)); then
    for f in exhibitd tus node-exporter prometheus; do
      echo "---- $f.log (last 30 lines)" >&2
      tail -n 30 "$work/$f.log" >&2 2>/dev/null || true
    done
  fi
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

wait_for_line() {  # FILE PATTERN WHAT
  local pid=${pids[-1]}
  for _ in $(seq 300); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  fail "$3 did not start"
}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---- the DFU store, the bus, the phone and exhibitd ----
make_test_pki "$work/tls" "exhibit metrics test CA"
tus_port=$(free_port)
start_tus() { start_tus_server "$work" "$src" "$tus_port"; }  # the DFU store, on one port
start_tus

start_private_bus "$work" "$src/packaging/dbus/org.exhibit.Exhibit1.conf"

"$bin/exhibit-phonesim" --generate "$work/phone" >/dev/null
mkdir "$work/textfile"
cat >"$work/exhibitd.conf" <<CONF
[daemon]
kiosk_id = "metrics-kiosk"
log_target = "stderr"
watchdog = false
[store]
state_directory = "$work/state"
min_free_mb = 1
[dbus]
bus = "$bus"
[upload]
endpoint = "https://127.0.0.1:$tus_port/files/"
ca_file = "$work/tls/ca.pem"
client_cert = "$work/tls/client.pem"
client_key = "$work/tls/client.key"
retry_initial_ms = 200
retry_max_s = 1
[monitoring]
metrics_directory = "$work/textfile"
metrics_interval_seconds = 2
heartbeat_interval_seconds = 5
CONF
serial=METRICS0042
"$bin/exhibit-phonesim" --usb --root "$work/phone" --records "$work/phone/records.json" \
  --serial "$serial" --model "Pixel 8" --manufacturer Google \
  -- "$bin/exhibitd" --config "$work/exhibitd.conf" >"$work/phonesim.log" 2>"$work/exhibitd.log" &
pids+=($!)
exhibitd_parent=$!
wait_for_line "$work/exhibitd.log" 'started: kiosk' "exhibitd"
[[ -f $work/textfile/exhibit.prom ]] || fail "exhibitd wrote no exhibit.prom at start"
mode=$(stat -c %a "$work/textfile/exhibit.prom")
[[ $mode == 644 ]] || fail "exhibit.prom has mode $mode; node_exporter's user must be able to read it"
promtool check metrics <"$work/textfile/exhibit.prom" || fail "promtool check metrics refused exhibit.prom"

# ---- node_exporter and prometheus, on 127.0.0.1 ----
ne_port=$(free_port)
prometheus-node-exporter --collector.disable-defaults --collector.textfile \
  --collector.textfile.directory="$work/textfile" --web.listen-address="127.0.0.1:$ne_port" \
  >"$work/node-exporter.log" 2>&1 &
pids+=($!)
wait_for_line "$work/node-exporter.log" 'Listening on' "prometheus-node-exporter"

cp "$src/packaging/prometheus/exhibit-alerts.yml" "$work/exhibit-alerts.yml"
cat >"$work/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [exhibit-alerts.yml]
scrape_configs:
  - job_name: exhibit-kiosk
    static_configs:
      - targets: ['127.0.0.1:$ne_port']
        labels: {instance: metrics-kiosk}
YML
promtool check config "$work/prometheus.yml" >/dev/null || fail "promtool refused the test's prometheus.yml"
prom_port=$(free_port)
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
pids+=($!)
wait_for_line "$work/prometheus.log" 'Server is ready to receive web requests' "prometheus"
api="http://127.0.0.1:$prom_port/api/v1"

query() {  # PROMQL: prints the single value, or nothing when the result is empty
  curl -fsS "$api/query" --data-urlencode "query=$1" | python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
if len(r) > 1: sys.exit("more than one series: %s" % r)
if r: print(r[0]["value"][1])'
}
expect() {  # PROMQL VALUE [SECONDS]: waits until Prometheus answers VALUE
  local got=""
  for _ in $(seq $((${3:-20} * 4))); do
    got=$(query "$1" || true)
    [[ $got == "$2" ]] && { printf '  ok  %-70s = %s\n' "$1" "$got"; return 0; }
    sleep 0.25
  done
  fail "$1: expected $2, Prometheus says '${got:-no data}'"
}
alert_state() {  # ALERTNAME: inactive, pending or firing
  curl -fsS "$api/rules?type=alert" | python3 -c '
import json, sys
name = sys.argv[1]
for g in json.load(sys.stdin)["data"]["groups"]:
    for r in g["rules"]:
        if r["name"] == name: print(r["state"]); sys.exit(0)
sys.exit("no alert rule " + name)' "$1"
}

echo "== before any extraction"
expect 'exhibit_up' 1
expect 'exhibit_build_info{version!=""}' 1
expect 'node_textfile_scrape_error' 0
expect 'exhibit_devices_connected{class="android_adb"}' 1
expect 'exhibit_items{state="complete"}' 0
expect 'exhibit_uploads_configured' 1
expect 'exhibit_audit_chain_verified' 1
expect 'exhibit_store_damaged' 0
expect 'exhibit_store_min_free_bytes' 1048576

echo "== the DFU store is killed: an urgent extraction cannot be delivered"
kill -KILL "$tus_pid"
ctl=("$bin/exhibitctl" --bus "$bus")
"${ctl[@]}" extract d1 --urgent --case "CR/2026/7731" --exhibit "MX/9" --officer "PC 9182" \
  --basis consent --notice "Digital consent notice v3" --agreed-by "phone owner" \
  --categories photos,videos,messages --wait >/dev/null
read -r items bytes < <("${ctl[@]}" receipt 1 --json |
  python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["items"], r["bytes"])')
((items > 0)) || fail "the extraction took nothing"
expect 'exhibit_items{state="complete"}' "$items"
expect 'exhibit_extractions_total{result="completed"}' 1
expect 'exhibit_upload_failures_total{reason="network"} > bool 0' 1 30
expect 'exhibit_upload_failures_total{reason="tls"}' 0
expect 'sum(exhibit_upload_queue_items{lane="urgent",state=~"queued|uploading"}) > bool 0' 1
expect 'exhibit_upload_oldest_unsent_age_seconds > bool 0' 1
expect 'exhibit_upload_last_success_timestamp_seconds' 0
expect 'exhibit_upload_delivered_bytes_total' 0
wait_alert() {  # ALERTNAME STATE-REGEX
  local state=""
  for _ in $(seq 160); do
    state=$(alert_state "$1")
    [[ $state =~ ^($2)$ ]] && { echo "  ok  alert $1: $state"; return 0; }
    sleep 0.25
  done
  fail "alert $1 is '$state', expected $2"
}
wait_alert ExhibitUploadsFailing 'pending|firing'  # its expression is true

echo "== the DFU store comes up: the evidence is delivered and the alert clears"
start_tus
"${ctl[@]}" sync --now --wait --timeout 120 >/dev/null
expect 'sum(exhibit_upload_queue_items{state="received"})' "$items"
expect 'sum(exhibit_upload_queue_items{state=~"queued|uploading|failed"})' 0
expect 'exhibit_upload_delivered_bytes_total' "$bytes"
expect 'exhibit_upload_queue_bytes{lane="urgent",state="received"}' "$bytes"
expect 'exhibit_upload_oldest_unsent_age_seconds' 0
expect 'exhibit_upload_last_success_timestamp_seconds > bool 0' 1
expect 'exhibit_items{state="complete"}' "$items"
wait_alert ExhibitUploadsFailing inactive

echo "== heartbeats, read at the DFU by exhibit-fleet"
fingerprint=$("${ctl[@]}" status --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["health"]["key_fingerprint"])')
printf '# enrolled kiosks\nmetrics-kiosk %s\nnever-seen-kiosk SHA256:%064d\n' "$fingerprint" 0 \
  >"$work/kiosks"
heartbeat_files() {  # the data files of the heartbeat uploads in the DFU store, oldest first
  python3 - "$work/dfu" <<'PY'
import json, os, sys
d = sys.argv[1]
found = []
for name in os.listdir(d):
    if name.endswith(".json"):
        info = json.load(open(os.path.join(d, name)))
        if isinstance(info.get("metadata"), dict) and info["metadata"].get("type") == "heartbeat":
            found.append((info.get("creation_date", ""), os.path.join(d, name[:-5])))
for _, path in sorted(found):
    print(path)
PY
}
fleet=("$bin/exhibit-fleet" --kiosks "$work/kiosks" "$work/dfu")
latest_backlog() {  # the backlog the newest heartbeat reports, or "none" before one arrived
  "${fleet[@]}" --json 2>/dev/null | python3 -c '
import json, sys
k = {x["kiosk"]: x for x in json.load(sys.stdin)["kiosks"]}["metrics-kiosk"]
print(k["backlog_items"] if k["seen"] else "none")' 2>/dev/null || echo none
}
# Heartbeats go every 5 s; the ones sent while the queue drained still show a backlog, so
# wait for two heartbeats and one sent after the last delivery (at most 30 s).
for _ in $(seq 60); do
  (($(heartbeat_files | wc -l) >= 2)) && [[ $(latest_backlog) == 0 ]] && break
  sleep 0.5
done
(($(heartbeat_files | wc -l) >= 2)) || fail "no heartbeats reached the DFU store"
"${fleet[@]}" >"$work/fleet.txt" || fail "exhibit-fleet refused good heartbeats: $(cat "$work/fleet.txt")"
sed 's/^/  | /' "$work/fleet.txt"
grep -q '^metrics-kiosk ' "$work/fleet.txt" || fail "no row for metrics-kiosk"
grep -q '^never-seen-kiosk .*no heartbeat received' "$work/fleet.txt" ||
  fail "an enrolled kiosk without heartbeats is not shown"
"${fleet[@]}" --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
k = {x["kiosk"]: x for x in r["kiosks"]}["metrics-kiosk"]
f = k["figures"]
assert k["seen"] and not r["rejected"], r
assert f["items"]["complete"] == int(sys.argv[1]), f["items"]
assert k["backlog_items"] == 0 and k["last_delivery"], k
assert f["delivered_bytes"] == int(sys.argv[2]), f["delivered_bytes"]
assert f["devices_connected"]["android_adb"] == 1, f["devices_connected"]
print("  ok  exhibit-fleet --json: %d items, %d bytes delivered, sequence %d" % (
    f["items"]["complete"], f["delivered_bytes"], k["sequence"]))' "$items" "$bytes" ||
  fail "exhibit-fleet --json does not show the kiosk's figures"
"${fleet[@]}" --prometheus >"$work/fleet.prom"
promtool check metrics <"$work/fleet.prom" || fail "promtool refused exhibit-fleet --prometheus"
grep -q '^exhibit_fleet_kiosk_seen{kiosk="metrics-kiosk"} 1$' "$work/fleet.prom" ||
  fail "exhibit-fleet --prometheus does not say the kiosk was seen"

echo "== an altered heartbeat and a replayed one are refused"
mapfile -t sent < <(heartbeat_files)
first=${sent[0]}
newest=${sent[-1]}
python3 - "$first" "$newest" "$work/dfu" <<'PY'
import json, os, sys, datetime
first, newest, d = sys.argv[1:]
later = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
def copy(src, new_id, change):
    data = open(src, "rb").read()
    info = json.load(open(src + ".json"))
    info["id"] = new_id
    info["creation_date"] = later
    open(os.path.join(d, new_id), "wb").write(change(data))
    json.dump(info, open(os.path.join(d, new_id) + ".json", "w"))
# Altered: one digit of a figure changed (same length, canonical form kept), the signature
# left as it was.
def alter(b):
    at = b.index(b'"free_bytes":') + len(b'"free_bytes":')
    return b[:at] + (b"1" if b[at:at + 1] != b"1" else b"2") + b[at + 1:]
copy(newest, "altered0001", alter)
# Replayed: the oldest heartbeat, byte for byte, arriving after the newest.
copy(first, "replayed0001", lambda b: b)
PY
set +e
"${fleet[@]}" >"$work/fleet-bad.txt" 2>&1
rc=$?
set -e
sed 's/^/  | /' "$work/fleet-bad.txt"
((rc == 2)) || fail "exhibit-fleet exited $rc with an altered and a replayed heartbeat (expected 2)"
grep -q 'altered0001 .*forged or altered: the signature does not verify' "$work/fleet-bad.txt" ||
  fail "the altered heartbeat is not refused as forged"
grep -q 'replayed0001 .*replayed: sequence' "$work/fleet-bad.txt" ||
  fail "the replayed heartbeat is not refused as replayed"
grep -q '^metrics-kiosk ' "$work/fleet-bad.txt" || fail "the kiosk's row went missing"

echo "== nothing about the case, the people, the phone or its files leaves through monitoring"
curl -fsS "http://127.0.0.1:$ne_port/metrics" >"$work/scraped.txt"
grep -q '^exhibit_up 1' "$work/scraped.txt" || fail "node_exporter does not serve exhibit_up"
needles=("CR/2026/7731" "MX/9" "PC 9182" "$serial" "phone owner")
while IFS= read -r -d '' f; do
  name=$(basename "$f")
  ((${#name} >= 6)) && needles+=("$name")
done < <(find "$work/phone" -type f ! -name records.json -print0)
((${#needles[@]} > 7)) || fail "the test phone has too few files to check against"
mapfile -t heartbeats < <(heartbeat_files)
for haystack in "$work/textfile/exhibit.prom" "$work/scraped.txt" "$work/exhibitd.log" \
  "${heartbeats[@]}" "${heartbeats[@]/%/.json}"; do
  for n in "${needles[@]}"; do
    if grep -qF -- "$n" "$haystack"; then
      fail "$(basename "$haystack") carries \"$n\": $(grep -F -- "$n" "$haystack" | head -n 2)"
    fi
  done
done
echo "  ok  ${#needles[@]} references, names and file names absent from the metrics, ${#heartbeats[@]} heartbeats and exhibitd's log"

echo "== a clean stop"
kill -TERM "$exhibitd_parent"
for _ in $(seq 100); do kill -0 "$exhibitd_parent" 2>/dev/null || break; sleep 0.1; done
grep -q '^exhibit_up 0' "$work/textfile/exhibit.prom" || fail "exhibit_up is not 0 after a clean stop"
expect 'exhibit_up' 0
echo "metrics end to end: passed"
