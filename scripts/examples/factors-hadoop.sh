#!/usr/bin/env bash
# hms-factors as a Hadoop Streaming job: the mapper writes NUMBER<TAB>DIVISORS,
# Hadoop sorts by key, 'hms-factors reduce' merges duplicate numbers (checking
# that their divisors agree) and counts. Without a 'hadoop' command it runs
# the same job locally: cat | mapper | sort | reducer.
#
#   scripts/examples/factors-hadoop.sh INPUT_DIR OUTPUT_DIR   # on a cluster
#   scripts/examples/factors-hadoop.sh numbers.txt            # locally
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${HMS_FACTORS:-bin/hms-factors}
# A static binary runs on every node whatever its libc: ship it with -files.
[ -x "$bin" ] || CGO_ENABLED=0 go build -trimpath -o "$bin" ./cmd/hms-factors

if ! command -v hadoop >/dev/null; then
	in=${1:--}
	echo "(no hadoop here: local emulation)" >&2
	cat "$in" | "$bin" --format tsv --hadoop | LC_ALL=C sort -t "$(printf '\t')" -k1,1 |
		"$bin" reduce --summary --hadoop
	exit
fi

in=${1:?usage: $0 INPUT_DIR OUTPUT_DIR}
out=${2:?usage: $0 INPUT_DIR OUTPUT_DIR}
streaming=${HADOOP_STREAMING_JAR:-$(ls "$HADOOP_HOME"/share/hadoop/tools/lib/hadoop-streaming-*.jar | head -1)}
# NLineInputFormat gives each mapper N lines as "offset<TAB>line":
# --drop-key drops the offset. --hadoop reports counters
# (hms-factors: numbers, invalid; the reducer: keys, duplicates,
# disagreements, bad_lines) in the job's counters page.
hadoop jar "$streaming" \
	-D mapreduce.job.name=hms-factors \
	-D mapreduce.input.lineinputformat.linespermap=100000 \
	-D mapreduce.job.reduces=1 \
	-files "$bin" \
	-inputformat org.apache.hadoop.mapred.lib.NLineInputFormat \
	-input "$in" -output "$out" \
	-mapper "hms-factors --format tsv --drop-key --hadoop" \
	-reducer "hms-factors reduce --hadoop"
