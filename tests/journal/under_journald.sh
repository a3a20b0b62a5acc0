#!/bin/sh
# Runs exhibitd against a real systemd-journald, in the mount namespace `unshare --mount`
# gave this script: tmpfs over the journal's sockets and files, so the host's journal (if
# any) sees nothing. Then drives a few events (start, SIGHUP reload, SIGTERM stop) and exports
# exhibitd's entries; last, shows the start event as `journalctl -x` explains it with CATALOG
# (compiled with the system's catalogs, in this namespace only).
# Used by exhibitd_journal_test.cpp.
#   under_journald.sh EXHIBITD CONFIG OUT_DIR STARTED_ID RELOADED_ID STOPPED_ID CATALOG
set -eu
exhibitd=$1 config=$2 out=$3 started=$4 reloaded=$5 stopped=$6 catalog=$7

mount --make-rprivate /
mount -t tmpfs tmpfs /run/systemd
mount -t tmpfs tmpfs /run/log
[ -d /var/log/journal ] && mount -t tmpfs tmpfs /var/log/journal
mkdir -p /run/systemd/journal

/lib/systemd/systemd-journald >"$out/journald.log" 2>&1 &
journald=$!
i=0
until [ -S /run/systemd/journal/socket ]; do
    i=$((i + 1)); [ $i -le 100 ] || { echo "journald did not start" >&2; exit 2; }
    sleep 0.1
done

# Waits until exhibitd's journal holds MESSAGE_ID=$1.
wait_for() {
    i=0
    until journalctl -D /run/log/journal -q -o cat "MESSAGE_ID=$1" 2>/dev/null | grep -q .; do
        i=$((i + 1)); [ $i -le 150 ] || { echo "no MESSAGE_ID=$1 in the journal" >&2; return 1; }
        sleep 0.1
    done
}

env -u JOURNAL_STREAM "$exhibitd" --config "$config" >"$out/exhibitd.out" 2>&1 &
daemon=$!
status=0
wait_for "$started" || status=3
if [ $status -eq 0 ]; then
    kill -HUP $daemon
    wait_for "$reloaded" || status=4
fi
kill -TERM $daemon
wait $daemon || status=5
wait_for "$stopped" || status=6

journalctl -D /run/log/journal -o export SYSLOG_IDENTIFIER=exhibitd >"$out/export"
kill $journald
wait $journald || true

# journalctl -x reads the catalog database at its fixed path (not under --root): compile one
# from the system's catalogs and CATALOG, both on tmpfs over the real folders.
mkdir -p "$out/catalog"
cp /usr/lib/systemd/catalog/*.catalog "$catalog" "$out/catalog/"
mount --bind "$out/catalog" /usr/lib/systemd/catalog
mount -t tmpfs tmpfs /var/lib/systemd/catalog
journalctl --update-catalog
journalctl -D /run/log/journal -x -q --no-pager "MESSAGE_ID=$started" >"$out/explained" ||
    status=7
exit $status
