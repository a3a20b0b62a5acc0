# What the benchmark scripts in bench/ share for timing and reporting (sourced, not run).
# Times are seconds with milliseconds; a summary is the median and the range over the runs.

now() { date +%s.%N; }
# Seconds since START (a `now` reading).
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.3f\n", b - a}'; }
# The median of the numbers on stdin, one per line.
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# "MB/s median (min-max)" of BYTES over the times given on stdin (one per line).
rate_summary() {
  sort -n | awk -v b="$1" '{t[NR]=$1} END {
    printf "%7.1f MB/s (%.1f-%.1f)", b / t[int((NR+1)/2)] / 1e6, b / t[NR] / 1e6, b / t[1] / 1e6 }'
}
# The largest peak RSS, in MiB, of the `/usr/bin/time -f 'rss %M'` reports named.
peak_rss_mib() { cat "$@" | awk '$1 == "rss" && $2 > m {m = $2} END {printf "%.1f", m / 1024}'; }
