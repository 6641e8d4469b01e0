#!/usr/bin/env bash
# Local emulation of rdd.pipe: hms-factors runs once per partition file, as
# Spark's executors run it: a fresh process with a minimal environment, the
# partition on stdin, even when the partition is empty. The concatenated
# output is what saveAsTextFile would write.
#
#   scripts/spark/emulate.sh PARTITION_FILE... > result
set -euo pipefail
bin=$(command -v "${HMS_FACTORS:-hms-factors}") || { echo "$0: hms-factors not found" >&2; exit 2; }
status=0
for p in "$@"; do
	env -i "$bin" --format tsv <"$p" || status=$?
done
exit "$status"
