#!/usr/bin/env bash
# Local emulation of the Hadoop Streaming job in run-job.sh, the way Hadoop
# runs it: every input file through the mapper, the map output sorted by key
# (Hadoop's shuffle), then the reducer. Counters the tasks write to stderr
# (reporter:counter:GROUP,NAME,N) are summed and printed on stderr at the end,
# as the job tracker would; other stderr lines pass through.
#
#   scripts/hadoop/emulate.sh FILE... > part-00000
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 FILE..." >&2; exit 2; }
bin=${HMS_FACTORS:-hms-factors}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
i=0
for f in "$@"; do # one map task per input file
	"$bin" --format tsv --hadoop <"$f" >"$tmp/map.$i" 2>>"$tmp/stderr" || status=$?
	i=$((i + 1))
done
LC_ALL=C sort -t "$(printf '\t')" -k1,1 "$tmp"/map.* | "$bin" reduce --hadoop 2>>"$tmp/stderr" || status=$?
grep -v '^reporter:' "$tmp/stderr" >&2 || true
awk -F'[:,]' '/^reporter:counter:/ { sum[$3 "," $4] += $5 }
	END { for (k in sum) printf "counter %s=%d\n", k, sum[k] }' "$tmp/stderr" | LC_ALL=C sort >&2
exit "$status"
