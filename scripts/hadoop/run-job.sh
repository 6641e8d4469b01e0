#!/usr/bin/env bash
# Submits the factoring job to a Hadoop cluster with Hadoop Streaming:
# hms-factors is the mapper (one tsv line per number, key = the number) and
# 'hms-factors reduce' the reducer (merges duplicate keys, checks they agree,
# and with --summary totals them). The binary is static (CGO_ENABLED=0), so
# -files ships it to every node as is; nothing needs installing there.
#
#   scripts/hadoop/run-job.sh INPUT_DIR OUTPUT_DIR [extra hadoop -D options...]
#
# Environment: HADOOP_STREAMING_JAR (default: the jar under $HADOOP_HOME),
# HMS_FACTORS (default: bin/hms-factors, built here if missing),
# NLINE=N to give each mapper N lines (NLineInputFormat) instead of a block.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 INPUT_DIR OUTPUT_DIR [-D k=v ...]" >&2; exit 2; }
in=$1 out=$2
shift 2
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${HMS_FACTORS:-$root/bin/hms-factors}
if [ ! -x "$bin" ]; then
	(cd "$root" && CGO_ENABLED=0 go build -trimpath -o "$bin" ./cmd/hms-factors)
fi
jar=${HADOOP_STREAMING_JAR:-$(ls "${HADOOP_HOME:?set HADOOP_HOME or HADOOP_STREAMING_JAR}"/share/hadoop/tools/lib/hadoop-streaming-*.jar | head -1)}

inputformat=()
mapper="hms-factors --format tsv --hadoop"
if [ -n "${NLINE:-}" ]; then
	# NLineInputFormat hands the mapper "offset<TAB>line": --drop-key removes
	# the offset (or set stream.map.input.ignoreKey=true and leave it out).
	inputformat=(-D "mapreduce.input.lineinputformat.linespermap=$NLINE"
		-inputformat org.apache.hadoop.mapred.lib.NLineInputFormat)
	mapper="hms-factors --format tsv --hadoop --drop-key"
fi

# Generic options (-D, -files) must come before the streaming options.
exec hadoop jar "$jar" \
	-D mapreduce.job.name=hms-factors \
	-D stream.num.map.output.key.fields=1 \
	-D mapreduce.job.reduces="${REDUCERS:-1}" \
	"$@" \
	-files "$bin" \
	"${inputformat[@]}" \
	-input "$in" -output "$out" \
	-mapper "$mapper" \
	-reducer "hms-factors reduce --hadoop"
