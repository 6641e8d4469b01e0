#!/usr/bin/env bash
# Benchmarks hms-send and hms-recv against the same broker in the same run:
#   publish: hms-send vs a minimal amqp091-go publisher with the same settings
#            (persistent, publisher confirms, same window, mandatory) vs
#            amqp-publish called once per line in a shell loop (Debian amqp-tools)
#   consume: hms-recv to stdout vs a minimal amqp091-go consumer acking each
#            message vs amqp-consume running 'cat' per message
#   quorum:  hms-send and hms-recv vs the same raw publisher and consumer, on
#            quorum queues of a 3-node cluster started on this machine
#            (scripts/rabbitmq-cluster.sh, ports 5771-5773; stopped at the
#            end); hms-send is given the three nodes, raw the first, which
#            is where hms-send connects
# and prints msg/s with the ratios the targets are stated in
# (hms >= 0.9x raw, >= 50x amqp-tools).
#
#   scripts/bench-amqp.sh                 # N=100000 200-byte messages, 2 rounds
#   N=20000 N_TOOLS=500 ROUNDS=1 scripts/bench-amqp.sh
#   QUORUM=0 scripts/bench-amqp.sh        # without the cluster rows
#
# Environment: AMQP_URL (default local broker), N (messages for hms and raw),
# N_TOOLS (messages for the amqp-tools, which are ~100x slower), SIZE (body
# bytes, default 200), WINDOW (confirm window, default 512), PREFETCH (500),
# ROUNDS (each round runs every contender once, in alternating order; the
# best rate per contender is kept, since the machine is shared and noisy),
# QUORUM (1: also the quorum rows on a 3-node cluster; 0: not),
# N_QUORUM (messages for the quorum rows; default N).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$(hms_root)"
ensure_go
ensure_rabbitmq
for t in amqp-publish amqp-consume amqp-declare-queue amqp-delete-queue; do
	command -v $t >/dev/null || die "$t is missing: apt-get install amqp-tools"
done

N=${N:-100000}
N_TOOLS=${N_TOOLS:-2000}
SIZE=${SIZE:-200}
WINDOW=${WINDOW:-512}
PREFETCH=${PREFETCH:-500}
ROUNDS=${ROUNDS:-2}
QUORUM=${QUORUM:-1}
N_QUORUM=${N_QUORUM:-$N}
URL=${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/}
export AMQP_URL=$URL
# librabbitmq reads "host:5672/" as the empty vhost; no path is "/".
TURL=${URL%/}

tmp=$(mktemp -d)
prefix="hmsbench.$$"
# The cluster of the quorum rows: a bench's own, on ports of its own.
cluster() {
	HMS_CLUSTER_DIR=${TMPDIR:-/tmp}/hms-bench-rabbitmq-cluster HMS_CLUSTER_PORT=5771 HMS_CLUSTER_NAME=hmsbench \
		scripts/rabbitmq-cluster.sh "$@"
}
cleanup() {
	for q in h r t; do
		amqp-delete-queue -u "$TURL" -q "$prefix.$q" >/dev/null 2>&1 || true
		amqp-delete-queue -u "$TURL" -q "$prefix.$q.dead" >/dev/null 2>&1 || true
	done
	if [[ $QUORUM == 1 ]]; then cluster clean >/dev/null 2>&1 || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "building..." >&2
go build -o "$tmp/hms-send" ./cmd/hms-send
go build -o "$tmp/hms-recv" ./cmd/hms-recv
go build -o "$tmp/amqp-raw" ./scripts/bench/amqp-raw

# N distinct lines of SIZE bytes.
awk -v n="$N" -v s="$SIZE" 'BEGIN { pad = sprintf("%*s", s, ""); gsub(/ /, "x", pad);
	for (i = 1; i <= n; i++) { id = sprintf("msg-%08d-", i); print id substr(pad, 1, s - length(id)) } }' >"$tmp/data"
head -n "$N_TOOLS" "$tmp/data" >"$tmp/data.tools"
head -n "$N_QUORUM" "$tmp/data" >"$tmp/data.quorum"
if [[ $QUORUM == 1 ]]; then
	echo "starting a 3-node cluster for the quorum rows..." >&2
	cluster start 3 >&2
	QURLS=$(cluster urls)
	QURL1=${QURLS%% *}
fi

now() { date +%s.%N; }
declare -A best
# record NAME COUNT START END: keep the best rate of NAME.
record() {
	local rate
	rate=$(awk -v n="$2" -v a="$3" -v b="$4" 'BEGIN { printf "%.0f", n / (b - a) }')
	printf '  %-32s %8d msgs  %7.2fs  %9s msg/s\n' "$1" "$2" "$(awk -v a="$3" -v b="$4" 'BEGIN{print b-a}')" "$rate" >&2
	if [[ -z "${best[$1]:-}" ]] || ((rate > best[$1])); then best[$1]=$rate; fi
}
purge() { # the queues hold what a previous round left; start empty
	"$tmp/hms-recv" -q "$1" --drain --no-declare >/dev/null 2>&1 || true
}

# pub_hms NAME QUEUE INPUT COUNT [FLAGS]: hms-send, to the broker(s) in AMQP_URL.
pub_hms() {
	local s e
	s=$(now)
	"$tmp/hms-send" -q "$2" --window "$WINDOW" "${@:5}" <"$3"
	e=$(now)
	record "$1" "$4" "$s" "$e"
}
# pub_raw NAME QUEUE INPUT COUNT URL [FLAGS]
pub_raw() {
	local s e
	s=$(now)
	"$tmp/amqp-raw" publish -url "$5" -queue "$2" -window "$WINDOW" "${@:6}" <"$3"
	e=$(now)
	record "$1" "$4" "$s" "$e"
}
# con_hms NAME QUEUE COUNT [FLAGS]
con_hms() {
	local s e
	s=$(now)
	"$tmp/hms-recv" -q "$2" --prefetch "$PREFETCH" --count "$3" "${@:4}" >"$tmp/out.h"
	e=$(now)
	record "$1" "$3" "$s" "$e"
	[[ $(wc -l <"$tmp/out.h") -eq $3 ]] || die "hms-recv wrote $(wc -l <"$tmp/out.h") lines, want $3"
}
# con_raw NAME QUEUE COUNT URL
con_raw() {
	local s e
	s=$(now)
	"$tmp/amqp-raw" consume -url "$4" -queue "$2" -prefetch "$PREFETCH" -n "$3" >"$tmp/out.r"
	e=$(now)
	record "$1" "$3" "$s" "$e"
}
tools() {
	local s e
	amqp-declare-queue -u "$TURL" -d -q "$prefix.t" >/dev/null
	s=$(now)
	while IFS= read -r line; do
		amqp-publish -u "$TURL" -r "$prefix.t" -p -b "$line"
	done <"$tmp/data.tools"
	e=$(now)
	record "publish amqp-publish loop" "$N_TOOLS" "$s" "$e"
	s=$(now)
	amqp-consume -u "$TURL" -q "$prefix.t" -p "$PREFETCH" -c "$N_TOOLS" cat >"$tmp/out.t"
	e=$(now)
	record "consume amqp-consume" "$N_TOOLS" "$s" "$e"
}

single() { # one round on the machine's broker
	purge "$prefix.h"
	purge "$prefix.r"
	local ph=(pub_hms "publish hms-send" "$prefix.h" "$tmp/data" "$N")
	local pr=(pub_raw "publish raw amqp091-go" "$prefix.r" "$tmp/data" "$N" "$URL")
	local ch=(con_hms "consume hms-recv" "$prefix.h" "$N")
	local cr=(con_raw "consume raw amqp091-go" "$prefix.r" "$N" "$URL")
	if (($1 % 2)); then
		"${pr[@]}"; "${ph[@]}"; "${cr[@]}"; "${ch[@]}"
	else
		"${ph[@]}"; "${pr[@]}"; "${ch[@]}"; "${cr[@]}"
	fi
}
quorum() { # one round on quorum queues of the cluster (fresh queues each round)
	local qh=$prefix.qh.$1 qr=$prefix.qr.$1
	local ph=(pub_hms "quorum publish hms-send" "$qh" "$tmp/data.quorum" "$N_QUORUM" --quorum)
	local pr=(pub_raw "quorum publish raw amqp091-go" "$qr" "$tmp/data.quorum" "$N_QUORUM" "$QURL1" -quorum)
	local ch=(con_hms "quorum consume hms-recv" "$qh" "$N_QUORUM" --quorum)
	local cr=(con_raw "quorum consume raw amqp091-go" "$qr" "$N_QUORUM" "$QURL1")
	if (($1 % 2)); then
		"${pr[@]}"; "${ph[@]}"; "${cr[@]}"; "${ch[@]}"
	else
		"${ph[@]}"; "${pr[@]}"; "${ch[@]}"; "${cr[@]}"
	fi
	"$tmp/amqp-raw" delete -url "$QURL1" "$qh" "$qh.dead" "$qr"
}

# Declare both queues the way each side does, empty.
"$tmp/hms-send" -q "$prefix.h" </dev/null
"$tmp/amqp-raw" publish -url "$URL" -queue "$prefix.r" </dev/null
for ((round = 1; round <= ROUNDS; round++)); do
	echo "round $round" >&2
	single "$round"
	if [[ $QUORUM == 1 ]]; then
		AMQP_URL=$QURLS quorum "$round"
	fi
done
tools

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
echo
echo "RabbitMQ $(rabbitmqctl version 2>/dev/null || echo '?'), $(nproc) cores, $SIZE-byte persistent messages, window $WINDOW, prefetch $PREFETCH; best of $ROUNDS rounds"
if [[ $QUORUM == 1 ]]; then
	echo "quorum rows: $N_QUORUM messages, quorum queues of a 3-node cluster on the same machine"
fi
printf '%-32s %10s %14s %14s\n' "contender" "msg/s" "hms vs raw" "hms vs tools"
printf '%-32s %10s %14s %14s\n' "publish raw amqp091-go" "${best[publish raw amqp091-go]}" "" ""
printf '%-32s %10s %14s %14s\n' "publish hms-send" "${best[publish hms-send]}" \
	"$(ratio "${best[publish hms-send]}" "${best[publish raw amqp091-go]}")" \
	"$(ratio "${best[publish hms-send]}" "${best[publish amqp-publish loop]}")"
printf '%-32s %10s %14s %14s\n' "publish amqp-publish loop" "${best[publish amqp-publish loop]}" "" ""
printf '%-32s %10s %14s %14s\n' "consume raw amqp091-go" "${best[consume raw amqp091-go]}" "" ""
printf '%-32s %10s %14s %14s\n' "consume hms-recv" "${best[consume hms-recv]}" \
	"$(ratio "${best[consume hms-recv]}" "${best[consume raw amqp091-go]}")" \
	"$(ratio "${best[consume hms-recv]}" "${best[consume amqp-consume]}")"
printf '%-32s %10s %14s %14s\n' "consume amqp-consume" "${best[consume amqp-consume]}" "" ""
if [[ $QUORUM == 1 ]]; then
	for op in publish consume; do
		hms=hms-send
		[[ $op == consume ]] && hms=hms-recv
		printf '%-32s %10s %14s %14s\n' "quorum $op raw amqp091-go" "${best[quorum $op raw amqp091-go]}" "" ""
		printf '%-32s %10s %14s %14s\n' "quorum $op $hms" "${best[quorum $op $hms]}" \
			"$(ratio "${best[quorum $op $hms]}" "${best[quorum $op raw amqp091-go]}")" ""
	done
fi
