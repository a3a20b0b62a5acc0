#!/usr/bin/env bash
# The alert rules for the DFU's Prometheus, checked and unit-tested by Debian's promtool:
#   - `promtool check rules` parses packaging/prometheus/exhibit-alerts.yml (PromQL and
#     templates valid, no duplicate rules);
#   - `promtool test rules` runs exhibit-alerts.test.yml: every alert fires where it should,
#     with its exact labels and annotations, and stays silent where it should not.
# Usage: alert_rules_test.sh SOURCE_DIR   (ctest -L monitoring)
set -euo pipefail
src=${1:?usage: alert_rules_test.sh SOURCE_DIR}
rules=$src/packaging/prometheus/exhibit-alerts.yml
tests=$src/tests/monitoring/exhibit-alerts.test.yml

command -v promtool >/dev/null ||
  { echo "alert-rules-test: promtool not found (Debian package prometheus; scripts/install-deps)" >&2; exit 1; }

promtool check rules "$rules"
# promtool resolves the test file's rule_files relative to the test file itself.
promtool test rules "$tests"
