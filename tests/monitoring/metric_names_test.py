#!/usr/bin/env python3
"""The alert rules use exactly the metrics exhibitd documents, and those pass Prometheus's lint.

docs/monitoring.md's "## Metrics" table is the contract between exhibitd's metrics file and
the alert rules. This test fails when:
  - a rule (packaging/prometheus/exhibit-alerts.yml) or a rule test's series or expression
    (exhibit-alerts.test.yml) names a metric that is neither in the table nor one of the few
    that Prometheus or node_exporter add, or a label the table does not give that metric, or
    a label value the table does not list: a misspelt name would otherwise match nothing
    and the alert would never fire;
  - sample-metrics.prom does not declare exactly the table's families with the table's
    types;
  - `promtool check metrics` finds a problem in sample-metrics.prom (exit status not 0).

Usage: metric_names_test.py SOURCE_DIR   (ctest -L monitoring)
"""

import re
import subprocess
import sys
from pathlib import Path

import yaml

# Metrics the rules may use that exhibitd does not write (the table's note names them too).
EXTERNAL = {"up", "node_textfile_mtime_seconds", "node_textfile_scrape_error"}
# Labels every scraped series carries.
TARGET_LABELS = {"job", "instance"}

KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
            "group_left", "group_right", "inf", "nan"}

TOKEN = re.compile(r"""
    (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<matchers>\{(?:[^{}"']|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')*\})
  | (?P<range>\[[^\]]*\])
  | (?P<number>(?:0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)[smhdwy]*)
  | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<other>\S)
""", re.VERBOSE)
MATCHER = re.compile(r"""\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*,?""")

failures = []


def fail(message):
    failures.append(message)


def documented_metrics(doc):
    """name -> (type, {label: set of values or None}) from the table under "## Metrics"."""
    section = re.search(r"^## Metrics\n(.*?)(?=^## |\Z)", doc, re.M | re.S)
    if not section:
        sys.exit("metric-names-test: docs/monitoring.md has no '## Metrics' section")
    metrics = {}
    for line in section.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        name = re.fullmatch(r"`([a-zA-Z_:][a-zA-Z0-9_:]*)`", cells[0]) if len(cells) >= 4 else None
        if not name:
            continue
        labels = {}
        for part in cells[2].split(";"):
            head, sep, values = part.partition(":")
            names = re.findall(r"`([^`]+)`", head)
            for label in names:
                labels[label] = set(re.findall(r"`([^`]+)`", values)) if sep else None
        metrics[name.group(1)] = (cells[1], labels)
    if not metrics:
        sys.exit("metric-names-test: no metric rows in docs/monitoring.md's table")
    return metrics


def selectors(expr):
    """(metric name, [(label, op, value)]) for every series selector in a PromQL expression."""
    tokens = [(m.lastgroup, m.group()) for m in TOKEN.finditer(expr)]
    found = []
    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else (None, "")
        if kind == "ident" and text in ("by", "without", "on", "ignoring",
                                        "group_left", "group_right") and nxt[1] == "(":
            while i < len(tokens) and tokens[i][1] != ")":  # a list of label names
                i += 1
        elif kind == "ident" and text not in KEYWORDS:
            if nxt[1] == "(" or nxt[1] in ("by", "without"):
                pass  # a function or an aggregation
            elif nxt[0] == "matchers":
                found.append((text, parse_matchers(nxt[1])))
                i += 1
            else:
                found.append((text, []))
        elif kind == "matchers":  # a selector with no name before its braces
            matchers = parse_matchers(text)
            names = [v for (label, op, v) in matchers if label == "__name__" and op == "="]
            if not names:
                fail(f"selector without a metric name in {expr!r}")
            found += [(n, [m for m in matchers if m[0] != "__name__"]) for n in names]
        i += 1
    return found


def parse_matchers(block):
    inner = block[1:-1]
    matchers, pos = [], 0
    while pos < len(inner) and inner[pos:].strip():
        m = MATCHER.match(inner, pos)
        if not m:
            fail(f"cannot read the label matchers {block!r}")
            return matchers
        matchers.append((m.group(1), m.group(2), m.group(3)[1:-1]))
        pos = m.end()
    return matchers


def check(where, name, matchers, metrics):
    if name in EXTERNAL:
        return
    if name not in metrics:
        fail(f"{where}: {name} is not in docs/monitoring.md's metrics table")
        return
    labels = metrics[name][1]
    for label, op, value in matchers:
        if label in TARGET_LABELS:
            continue
        if label not in labels:
            fail(f"{where}: {name} has no label {label!r} in docs/monitoring.md")
        elif op in ("=", "!=") and labels[label] is not None and value not in labels[label]:
            fail(f"{where}: {name}{{{label}}} has no value {value!r} in docs/monitoring.md")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: metric_names_test.py SOURCE_DIR")
    src = Path(sys.argv[1])
    here = src / "tests" / "monitoring"
    metrics = documented_metrics((src / "docs" / "monitoring.md").read_text())
    for name in EXTERNAL:
        if f"`{name}`" not in (src / "docs" / "monitoring.md").read_text():
            fail(f"docs/monitoring.md does not mention {name}, which the rules may use")

    # The sample file: the table's families and types, and Prometheus's lint.
    sample = here / "sample-metrics.prom"
    declared = dict(re.findall(r"^# TYPE (\S+) (\S+)$", sample.read_text(), re.M))
    documented = {name: kind for name, (kind, _) in metrics.items()}
    for name in sorted(set(declared) | set(documented)):
        if declared.get(name) != documented.get(name):
            fail(f"{name}: sample-metrics.prom says {declared.get(name)}, "
                 f"docs/monitoring.md says {documented.get(name)}")
    with sample.open() as f:
        lint = subprocess.run(["promtool", "check", "metrics"], stdin=f,
                              capture_output=True, text=True)
    if lint.returncode != 0:
        fail(f"promtool check metrics exited {lint.returncode} on sample-metrics.prom: "
             f"{(lint.stdout + lint.stderr).strip()}")

    # The rules.
    rules_file = src / "packaging" / "prometheus" / "exhibit-alerts.yml"
    rules = yaml.safe_load(rules_file.read_text())
    count = 0
    for group in rules["groups"]:
        for rule in group["rules"]:
            where = f"rule {rule.get('alert') or rule.get('record')}"
            used = selectors(str(rule["expr"]))
            if not used:
                fail(f"{where}: no metric found in its expression")
            for name, matchers in used:
                check(where, name, matchers, metrics)
                count += 1

    # The rule tests: their input series and expressions.
    tests = yaml.safe_load((here / "exhibit-alerts.test.yml").read_text())
    for test in tests["tests"]:
        where = f"test {test.get('name', '?')!r}"
        for series in test.get("input_series", []):
            for name, matchers in selectors(series["series"]):
                check(where, name, matchers, metrics)
        for expr_test in test.get("promql_expr_test", []):
            for name, matchers in selectors(expr_test["expr"]):
                check(where, name, matchers, metrics)

    for message in failures:
        print(f"metric-names-test: FAIL: {message}", file=sys.stderr)
    if failures:
        return 1
    print(f"metric-names-test: {count} metric uses in the rules, {len(metrics)} documented "
          f"families, sample-metrics.prom passes promtool check metrics")
    return 0


if __name__ == "__main__":
    sys.exit(main())
