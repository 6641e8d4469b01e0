#!/usr/bin/env bash
# Throughput of the factoring cluster (scripts/cluster/: orchestrator, 2
# workers, chunks of 1000) against plain hms-factors on the same numbers, in
# one run on the same machine, and against the book's local-parallel approach
# (one process per number, here each one a hms-factors run, at most
# `nproc` at a time). Prints a markdown table.
#
#   scripts/bench-cluster.sh [COUNT]      # default 100000 random 64-bit numbers
#
# The cluster rows: "to results queue" ends when a dispatcher reading the
# results queue has written every result to a file (the book's file
# dispatcher); "into MongoDB" ends when the dispatcher of scripts/cluster has
# stored them all in the dev server (FerretDB, whose SQLite inserts are the
# bottleneck there).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
root=$(hms_root)
count=${1:-100000}
ensure_go
ensure_rabbitmq
(cd "$root" && CGO_ENABLED=0 go build -trimpath -o bin/ ./cmd/...)
export PATH="$root/bin:$PATH"
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
	[ -z "$stop_devdb" ] || "$root/scripts/devdb.sh" stop >/dev/null 2>&1 || true
}
stop_devdb=
trap cleanup EXIT

od -An -tu8 -w8 -N$((count * 8)) /dev/urandom | tr -d ' ' >"$tmp/nums"
now() { echo "$EPOCHREALTIME"; }
rate() { awk -v n="$1" -v s="$2" -v e="$3" 'BEGIN { printf "%.0f", n / (e - s) }'; }
# wait_lines FILE N: poll until FILE has N lines (deadline 600s).
wait_lines() {
	local deadline=$((SECONDS + 600))
	until [ "$(wc -l <"$1")" -ge "$2" ]; do
		((SECONDS < deadline)) || die "timed out waiting for $2 lines in $1"
		read -r -t 0.02 <> <(:) || true
	done
}

# Plain hms-factors, both cores.
s=$(now)
hms-factors --format json <"$tmp/nums" >/dev/null
plain=$(rate "$count" "$s" "$(now)")

# One process per number, nproc at a time, on a sample.
sample=$((count < 3000 ? count : 3000))
head -n "$sample" "$tmp/nums" >"$tmp/sample"
s=$(now)
xargs -P "$(nproc)" -n 1 hms-factors --format json <"$tmp/sample" >/dev/null
perproc=$(rate "$sample" "$s" "$(now)")

# The cluster.
run=bench-$$-$RANDOM
hms-sign keygen --kid "orch-$run" --origin orchestrator --out "$tmp/orch.key" 2>/dev/null
hms-sign keygen --kid "worker-$run" --origin worker --out "$tmp/worker.key" 2>/dev/null
cat "$tmp/orch.key" "$tmp/worker.key" >"$tmp/ring"
chmod 600 "$tmp/ring"
export HMS_ORCH_KEY=$tmp/orch.key HMS_WORKER_KEY=$tmp/worker.key HMS_KEYRING=$tmp/ring
export HMS_WORK_QUEUE=hms.bench.work.$run HMS_RESULTS_QUEUE=hms.bench.results.$run

cluster_run() { # cluster_run DISPATCHER-MODE: numbers/s into $tmp/rate
	local mode=$1
	: >"$tmp/results"
	: >"$tmp/dispatcher.log"
	if [ "$mode" = file ]; then
		rm -f "$tmp/fifo"
		mkfifo "$tmp/fifo"
		hms-recv --queue "$HMS_RESULTS_QUEUE" --prefetch 50 >"$tmp/fifo" 2>>"$tmp/dispatcher.log" &
		pids+=($!)
		hms-sign verify --keyring "$HMS_KEYRING" --emit data <"$tmp/fifo" >"$tmp/results" 2>>"$tmp/dispatcher.log" &
		pids+=($!)
	else
		"$root/scripts/cluster/dispatcher.sh" -v 2>"$tmp/dispatcher.log" &
		pids+=($!)
	fi
	for i in 1 2; do
		"$root/scripts/cluster/worker.sh" 2>>"$tmp/workers.log" &
		pids+=($!)
	done
	local s
	s=$(now)
	"$root/scripts/cluster/orchestrate.sh" <"$tmp/nums" 2>>"$tmp/workers.log"
	if [ "$mode" = file ]; then
		wait_lines "$tmp/results" "$count"
	else
		local deadline=$((SECONDS + 900))
		until [ "$(sed -n 's/.*inserted \([0-9]*\),.*/\1/p' "$tmp/dispatcher.log" | awk '{s+=$1} END {print s+0}')" -ge "$count" ]; do
			((SECONDS < deadline)) || die "timed out waiting for the store"
			read -r -t 0.05 <> <(:) || true
		done
	fi
	rate "$count" "$s" "$(now)" >"$tmp/rate"
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	wait "${pids[@]}" 2>/dev/null || true
	pids=()
}
cluster_run file
tofile=$(cat "$tmp/rate")
todb=
if [ "${BENCH_CLUSTER_DB:-1}" = 1 ]; then
	"$root/scripts/devdb.sh" status >/dev/null 2>&1 || stop_devdb=1
	eval "$("$root/scripts/devdb.sh" start 2>/dev/null)"
	export MONGODB_URI HMS_DB=hms_bench HMS_COLLECTION=factors_$run
	cluster_run db
	todb=$(cat "$tmp/rate")
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
pass() { awk -v r="$1" -v t="$2" 'BEGIN { print (r >= t ? "yes" : "no") }'; }
r1=$(ratio "$tofile" "$plain")
r2=$(ratio "$tofile" "$perproc")
echo "| workload ($count random 64-bit numbers, $(nproc) cores) | hms numbers/s | peer | peer numbers/s | ratio | target | pass |"
echo "|---|---|---|---|---|---|---|"
echo "| cluster: 2 workers, chunks of 1000, to results queue | $tofile | plain hms-factors | $plain | ${r1}x | >= 0.5x | $(pass "$r1" 0.5) |"
echo "| cluster: 2 workers, chunks of 1000, to results queue | $tofile | one process per number (book's local parallel) | $perproc | ${r2}x | > 1x | $(pass "$r2" 1.0001) |"
if [ -n "$todb" ]; then
	r3=$(ratio "$todb" "$plain")
	echo "| cluster: 2 workers, chunks of 1000, into MongoDB (dev server) | $todb | plain hms-factors | $plain | ${r3}x | (informative) | - |"
fi
