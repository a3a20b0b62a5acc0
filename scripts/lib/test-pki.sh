# shellcheck shell=bash
# Sourced by scripts/demo, bench/upload/run and tests/packaging/install-test.sh: a throw-away
# PKI for the local tus server's mutual TLS. In DIR: ca.pem/ca.key (a CA named NAME), server.pem/
# server.key (for IP 127.0.0.1), client.pem/client.key (clientAuth), all P-256, valid 2 days.
# Usage: make_test_pki DIR NAME
make_test_pki() {
  local dir=$1 name=$2 who ext
  mkdir -p "$dir"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/ca.key" \
    -out "$dir/ca.pem" -subj "/CN=$name" -days 2 >/dev/null 2>&1
  for who in server client; do
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/$who.key" \
      -out "$dir/$who.csr" -subj "/CN=$who" >/dev/null 2>&1
    if [[ $who == server ]]; then ext="subjectAltName=IP:127.0.0.1"; else ext="extendedKeyUsage=clientAuth"; fi
    openssl x509 -req -in "$dir/$who.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
      -out "$dir/$who.pem" -days 2 -extfile <(echo "$ext") >/dev/null 2>&1
  done
  [[ -s $dir/client.key && -s $dir/server.pem ]] || { echo "make_test_pki: openssl failed" >&2; return 1; }
}
