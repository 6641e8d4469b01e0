#!/usr/bin/env bash
# Benchmarks hms-send and hms-recv against the same broker in the same run:
#   publish: hms-send vs a minimal amqp091-go publisher with the same settings
#            (persistent, publisher confirms, same window, mandatory) vs
#            amqp-publish called once per line in a shell loop (Debian amqp-tools)
#   consume: hms-recv to stdout vs a minimal amqp091-go consumer acking each
#            message vs amqp-consume running 'cat' per message
# and prints msg/s with the ratios the targets are stated in
# (hms >= 0.9x raw, >= 50x amqp-tools).
#
#   scripts/bench-amqp.sh                 # N=100000 200-byte messages, 2 rounds
#   N=20000 N_TOOLS=500 ROUNDS=1 scripts/bench-amqp.sh
#
# Environment: AMQP_URL (default local broker), N (messages for hms and raw),
# N_TOOLS (messages for the amqp-tools, which are ~100x slower), SIZE (body
# bytes, default 200), WINDOW (confirm window, default 512), PREFETCH (500),
# ROUNDS (each round runs every contender once, in alternating order; the
# best rate per contender is kept, since the machine is shared and noisy).
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
URL=${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/}
export AMQP_URL=$URL
# librabbitmq reads "host:5672/" as the empty vhost; no path is "/".
TURL=${URL%/}

tmp=$(mktemp -d)
prefix="hmsbench.$$"
cleanup() {
	for q in h r t; do
		amqp-delete-queue -u "$TURL" -q "$prefix.$q" >/dev/null 2>&1 || true
		amqp-delete-queue -u "$TURL" -q "$prefix.$q.dead" >/dev/null 2>&1 || true
	done
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

now() { date +%s.%N; }
declare -A best
# record NAME COUNT START END: keep the best rate of NAME.
record() {
	local rate
	rate=$(awk -v n="$2" -v a="$3" -v b="$4" 'BEGIN { printf "%.0f", n / (b - a) }')
	printf '  %-28s %8d msgs  %7.2fs  %9s msg/s\n' "$1" "$2" "$(awk -v a="$3" -v b="$4" 'BEGIN{print b-a}')" "$rate" >&2
	if [[ -z "${best[$1]:-}" ]] || ((rate > best[$1])); then best[$1]=$rate; fi
}
purge() { # the queues hold what a previous round left; start empty
	"$tmp/hms-recv" -q "$1" --drain --no-declare >/dev/null 2>&1 || true
}

pub_hms() {
	local s e
	s=$(now)
	"$tmp/hms-send" -q "$prefix.h" --window "$WINDOW" <"$tmp/data"
	e=$(now)
	record "publish hms-send" "$N" "$s" "$e"
}
pub_raw() {
	local s e
	s=$(now)
	"$tmp/amqp-raw" publish -url "$URL" -queue "$prefix.r" -window "$WINDOW" <"$tmp/data"
	e=$(now)
	record "publish raw amqp091-go" "$N" "$s" "$e"
}
con_hms() {
	local s e
	s=$(now)
	"$tmp/hms-recv" -q "$prefix.h" --prefetch "$PREFETCH" --count "$N" >"$tmp/out.h"
	e=$(now)
	record "consume hms-recv" "$N" "$s" "$e"
	[[ $(wc -l <"$tmp/out.h") -eq $N ]] || die "hms-recv wrote $(wc -l <"$tmp/out.h") lines, want $N"
}
con_raw() {
	local s e
	s=$(now)
	"$tmp/amqp-raw" consume -url "$URL" -queue "$prefix.r" -prefetch "$PREFETCH" -n "$N" >"$tmp/out.r"
	e=$(now)
	record "consume raw amqp091-go" "$N" "$s" "$e"
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

# Declare both queues the way each side does, empty.
"$tmp/hms-send" -q "$prefix.h" </dev/null
"$tmp/amqp-raw" publish -url "$URL" -queue "$prefix.r" </dev/null
for ((round = 1; round <= ROUNDS; round++)); do
	echo "round $round" >&2
	purge "$prefix.h"
	purge "$prefix.r"
	if ((round % 2)); then
		pub_raw; pub_hms; con_raw; con_hms
	else
		pub_hms; pub_raw; con_hms; con_raw
	fi
done
tools

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
echo
echo "RabbitMQ $(rabbitmqctl version 2>/dev/null || echo '?'), $(nproc) cores, $SIZE-byte persistent messages, window $WINDOW, prefetch $PREFETCH; best of $ROUNDS rounds"
printf '%-28s %10s %14s %14s\n' "contender" "msg/s" "hms vs raw" "hms vs tools"
printf '%-28s %10s %14s %14s\n' "publish raw amqp091-go" "${best[publish raw amqp091-go]}" "" ""
printf '%-28s %10s %14s %14s\n' "publish hms-send" "${best[publish hms-send]}" \
	"$(ratio "${best[publish hms-send]}" "${best[publish raw amqp091-go]}")" \
	"$(ratio "${best[publish hms-send]}" "${best[publish amqp-publish loop]}")"
printf '%-28s %10s %14s %14s\n' "publish amqp-publish loop" "${best[publish amqp-publish loop]}" "" ""
printf '%-28s %10s %14s %14s\n' "consume raw amqp091-go" "${best[consume raw amqp091-go]}" "" ""
printf '%-28s %10s %14s %14s\n' "consume hms-recv" "${best[consume hms-recv]}" \
	"$(ratio "${best[consume hms-recv]}" "${best[consume raw amqp091-go]}")" \
	"$(ratio "${best[consume hms-recv]}" "${best[consume amqp-consume]}")"
printf '%-28s %10s %14s %14s\n' "consume amqp-consume" "${best[consume amqp-consume]}" "" ""
