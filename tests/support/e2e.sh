# shellcheck shell=bash
# Sourced by the end-to-end test scripts: start the pieces every one of them needs. Each
# function adds the PID it started to the caller's `pids` array (the caller's trap kills them)
# and calls the caller's `fail` when the piece does not come up.

# start_network_phone WORK PHONESIM ROOT [ARGS...]: exhibit-phonesim serving ROOT over ADB on
# 127.0.0.1 (a free port); sets `phone` to its HOST:PORT. Its log: WORK/phonesim.log.
start_network_phone() {
  local work=$1 phonesim=$2 root=$3
  shift 3
  "$phonesim" --root "$root" --listen 127.0.0.1:0 "$@" >"$work/phonesim.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 200); do grep -q 'listening on 127.0.0.1:' "$work/phonesim.log" && break; sleep 0.05; done
  phone=$(sed -nE 's/.*listening on (127\.0\.0\.1:[0-9]+).*/\1/p' "$work/phonesim.log" | head -1)
  [[ -n $phone ]] || fail "exhibit-phonesim did not start"
}

# start_private_bus WORK POLICY_FILE: a system-type dbus-daemon with Debian's defaults and the
# policy file, listening on WORK/bus; sets `bus` to its address. Needs scripts/lib/bus.sh.
start_private_bus() {
  local work=$1 policy=$2
  write_bus_config "$work/bus.conf" "$work/bus" "$policy"
  dbus-daemon --config-file="$work/bus.conf" --nofork --print-address >"$work/bus.address" \
    2>"$work/bus.log" &
  pids+=($!)
  for _ in $(seq 200); do grep -q unix: "$work/bus.address" 2>/dev/null && break; sleep 0.05; done
  grep -q unix: "$work/bus.address" 2>/dev/null || fail "dbus-daemon did not start"
  bus="unix:path=$work/bus"
}

# start_tus_server WORK SRC PORT: the in-tree @tus/server (tests/peers/tus-server) on
# 127.0.0.1:PORT over mutual TLS with WORK/tls (scripts/lib/test-pki.sh's make_test_pki),
# storing into WORK/dfu; may be called again after it was killed, on the same port. Sets
# `tus_pid`. Its log: WORK/tus.log (one "listening" line per start).
start_tus_server() {
  local work=$1 src=$2 port=$3 before
  before=$(grep -c '^listening' "$work/tus.log" 2>/dev/null || true)
  node "$src/tests/peers/tus-server/server.mjs" --port "$port" --dir "$work/dfu" \
    --cert "$work/tls/server.pem" --key "$work/tls/server.key" --ca "$work/tls/ca.pem" \
    >>"$work/tus.log" 2>&1 &
  tus_pid=$!
  pids+=("$tus_pid")
  for _ in $(seq 300); do
    (($(grep -c '^listening' "$work/tus.log" 2>/dev/null || true) > before)) && return 0
    kill -0 "$tus_pid" 2>/dev/null || break
    sleep 0.05
  done
  fail "the tus server did not start"
}
