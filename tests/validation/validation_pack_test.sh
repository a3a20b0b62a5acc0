#!/usr/bin/env bash
# The shipped validation pack (validation/) run by exhibit-validate against this build: every
# case passes, and the report is written as HTML and as a PDF that poppler can read. Then the
# same pack against a deliberately broken build (EXHIBIT_TEST_FAULT=alter-byte, compiled in
# with EXHIBIT_TEST_FAULTS: the first byte of the first item is changed before it is hashed,
# so the kiosk's store, manifest and delivery all agree with each other): the pack fails, and
# says which case and which item.
# Real pieces: exhibit-phonesim, exhibitd on a private bus with the project's policy, the
# in-tree @tus/server on 127.0.0.1, exhibitctl, exhibit-verify, WeasyPrint.
# Usage: validation_pack_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1
build=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/exhibit-validation.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

validate() {
  "$build/bin/exhibit-validate" --pack "$src/validation" \
    --tus-server "node $src/tests/peers/tus-server/server.mjs" \
    --dbus-policy "$src/packaging/dbus/org.exhibit.Exhibit1.conf" "$@"
}

echo "== the pack against this build"
status=0
validate --out "$work/good" >"$work/good.txt" 2>&1 || status=$?
cat "$work/good.txt"
((status == 0)) || fail "exhibit-validate exited $status on a good build"
cases=$(find "$src/validation/cases" -mindepth 1 -maxdepth 1 -type d | wc -l)
grep -q "^$cases of $cases cases passed" "$work/good.txt" || fail "not every case passed"
for f in report.html report.pdf; do [[ -s $work/good/$f ]] || fail "no $f"; done
grep -q "PASS</span>: $cases of $cases cases passed" "$work/good/report.html" ||
  fail "the HTML report does not say every case passed"
pages=$(pdfinfo "$work/good/report.pdf" | awk '/^Pages:/ {print $2}')
((pages >= 2)) || fail "the PDF has $pages pages"
text=$(pdftotext "$work/good/report.pdf" -)
grep -q "exhibit validation report" <<<"$text" || fail "the PDF does not read as the report"
grep -q "Known limits" <<<"$text" || fail "the PDF has no limits"

echo "== the pack against a build that alters one byte"
status=0
EXHIBIT_TEST_FAULT=alter-byte validate --out "$work/broken" --case 01-files-every-category \
  >"$work/broken.txt" 2>&1 || status=$?
cat "$work/broken.txt"
((status == 1)) || fail "exhibit-validate exited $status on a broken build (expected 1)"
grep -q "^FAIL 01-files-every-category" "$work/broken.txt" || fail "the failing case is not named"
grep -qE "^   FAIL /sdcard/.*: expected verified, whole, sha256 [0-9a-f]{64}; observed verified, whole, sha256 [0-9a-f]{64}$" \
  "$work/broken.txt" || fail "the altered item is not named with both hashes"
grep -q "exhibitd: TEST FAULT alter-byte" "$work/broken/cases/01-files-every-category/exhibitd.log" ||
  fail "the fault did not fire: the test proves nothing"
grep -q "FAIL</span>: 0 of 1 cases passed" "$work/broken/report.html" ||
  fail "the report of the broken build does not say it failed"
echo "  ok  the pack passes on this build and fails, naming the case, on a broken one"
