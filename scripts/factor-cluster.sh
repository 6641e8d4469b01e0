#!/usr/bin/env bash
# Runs the book's distributed factoring (chapter 19) on one machine, composed
# from the hms binaries as scripts/cluster/ does it: an orchestrator signs
# chunks of numbers and queues them, WORKERS workers compete for the work,
# and a dispatcher stores every result in MongoDB (the dev server unless
# MONGODB_URI is set). Then it checks that every number was stored once.
#
#   scripts/factor-cluster.sh [COUNT [FIRST]]     # default: 10000 numbers from 10000000
#
# Environment: WORKERS (2), AMQP_URL, MONGODB_URI, HMS_CHUNK (1000).
# On several machines, run scripts/cluster/worker.sh on each worker node and
# scripts/cluster/dispatcher.sh where the database is; they only need the
# binaries, the broker URL and their keys.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
root=$(hms_root)
count=${1:-10000}
first=${2:-10000000}
workers=${WORKERS:-2}
[[ $count =~ ^[1-9][0-9]*$ && $first =~ ^[1-9][0-9]*$ ]] || die "usage: $0 [COUNT [FIRST]]"

ensure_go
ensure_rabbitmq
echo "== building the binaries into bin/" >&2
(cd "$root" && CGO_ENABLED=0 go build -trimpath -o bin/ ./cmd/...)
export PATH="$root/bin:$PATH"
started_devdb=
if [ -z "${MONGODB_URI:-}" ]; then
	"$root/scripts/devdb.sh" status >/dev/null 2>&1 || started_devdb=1
	eval "$("$root/scripts/devdb.sh" start)"
	export MONGODB_URI
fi

run=$(date +%s)-$$
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
	# This run's queues are empty now; remove them where the broker is ours.
	if command -v rabbitmqctl >/dev/null 2>&1 && [[ ${AMQP_URL:-127.0.0.1} == *127.0.0.1* || ${AMQP_URL:-} == *localhost* ]]; then
		for q in "${HMS_WORK_QUEUE:-}" "${HMS_RESULTS_QUEUE:-}"; do
			[ -n "$q" ] || continue
			rabbitmqctl -q delete_queue "$q" >/dev/null 2>&1 || true
			rabbitmqctl -q delete_queue "$q.dead" >/dev/null 2>&1 || true
		done
	fi
	# The results stay in the database (hms_cluster); a dev server started
	# here is stopped, its data kept for the next start.
	[ -z "$started_devdb" ] || "$root/scripts/devdb.sh" stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "== keys: the orchestrator signs work, workers sign results" >&2
hms-sign keygen --kid "orch-$run" --origin orchestrator --out "$work/orch.key"
hms-sign keygen --kid "worker-$run" --origin worker --out "$work/worker.key"
cat "$work/orch.key" "$work/worker.key" >"$work/ring"
chmod 600 "$work/ring"
export HMS_ORCH_KEY=$work/orch.key HMS_WORKER_KEY=$work/worker.key HMS_KEYRING=$work/ring
export HMS_WORK_QUEUE=hms.factors.work.$run HMS_RESULTS_QUEUE=hms.factors.results.$run
export HMS_DB=hms_cluster HMS_COLLECTION=factors_$run

echo "== dispatcher and $workers workers on $HMS_WORK_QUEUE" >&2
start=$(date +%s.%N)
"$root/scripts/cluster/dispatcher.sh" -v 2>"$work/dispatcher.log" &
pids+=($!)
for i in $(seq 1 "$workers"); do
	"$root/scripts/cluster/worker.sh" -v 2>"$work/worker-$i.log" &
	pids+=($!)
done

echo "== orchestrator: $count numbers from $first, ${HMS_CHUNK:-1000} per work message" >&2
seq "$first" $((first + count - 1)) | "$root/scripts/cluster/orchestrate.sh"

# The dispatcher's hms-store runs report what they newly inserted; wait
# (polling, with a deadline) until that covers every number.
deadline=$((SECONDS + 600))
stored() { sed -n 's/.*inserted \([0-9]*\),.*/\1/p' "$work/dispatcher.log" | awk '{s+=$1} END {print s+0}'; }
until [ "$(stored)" -ge "$count" ]; do
	((SECONDS < deadline)) || die "only $(stored) of $count stored after 600s; logs in $work"
	for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || die "a cluster process died; logs: $(cat "$work"/*.log)"; done
	read -r -t 0.1 <> <(:) || true
done
awk -v s="$start" -v e="$(date +%s.%N)" -v n="$count" \
	'BEGIN { printf "== all %d numbers stored in %.2fs (%.0f numbers/s)\n", n, e - s, n / (e - s) }' >&2

echo "== check: the store against hms-factors run here" >&2
# Sorted by n, only the factors: field order within a document is not
# part of what is compared.
hms-store find --db "$HMS_DB" --collection "$HMS_COLLECTION" --fields factors --no-id --sort n >"$work/stored.json"
seq "$first" $((first + count - 1)) | hms-factors --format json | sed 's/^{"n":[0-9]*,/{/' >"$work/local.json"
if cmp -s "$work/stored.json" "$work/local.json"; then
	echo "ok: $count documents, one per number, each equal to hms-factors' answer" >&2
else
	diff "$work/stored.json" "$work/local.json" | head >&2
	die "the store differs from hms-factors"
fi
echo "first results:" >&2
hms-store find --db "$HMS_DB" --collection "$HMS_COLLECTION" --sort n --limit 3
