#!/usr/bin/env bash
# Benchmark: hms-store insert against the raw Go driver (scripts/bench/store-raw:
# unordered InsertMany, same batch size, documents decoded before its clock
# starts) inserting the same documents (same _ids) into the same dev server (FerretDB,
# tools/hms-devdb), alternating, each run into a fresh database. hms-store is
# timed from process start to exit (parsing, connecting and all).
#
#   scripts/bench-store.sh [DOCS [ROUNDS [BATCH]]]    # default 50000 3 1000
#
# HMS_TEST_MONGODB_URI=mongodb://... benchmarks a real MongoDB instead.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$(hms_root)"
ensure_go
docs=${1:-50000}
rounds=${2:-3}
batch=${3:-1000}

tmp=$(mktemp -d)
devdb_pid=
cleanup() {
	[ -n "$devdb_pid" ] && kill "$devdb_pid" 2>/dev/null && wait "$devdb_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/hms-store" ./cmd/hms-store
go build -o "$tmp/store-raw" ./scripts/bench/store-raw
if [ -n "${HMS_TEST_MONGODB_URI:-}" ]; then
	uri=$HMS_TEST_MONGODB_URI
else
	go build -o "$tmp/hms-devdb" ./tools/hms-devdb
	"$tmp/hms-devdb" -addr 127.0.0.1:0 -dir "$tmp/data" >"$tmp/uri" &
	devdb_pid=$!
	deadline=$((SECONDS + 30))
	until [ -s "$tmp/uri" ]; do # hms-devdb prints its URI once it answers
		((SECONDS < deadline)) || die "hms-devdb did not start"
		read -r -t 0.1 <> <(:) || true
	done
	uri=$(cat "$tmp/uri")
fi

# Documents like the Dispatcher's: a number, its divisors, who computed it.
awk -v n="$docs" 'BEGIN {
	for (i = 1; i <= n; i++) {
		d = "1"; for (k = 2; k <= 40 && k <= i; k++) if (i % k == 0) d = d "," k
		printf "{\"n\":%d,\"divisors\":[%s],\"worker\":\"w%d\",\"ms\":%.3f}\n", i, d, i % 8, (i % 1000) / 7
	}
}' >"$tmp/docs.jsonl"
echo "documents: $docs ($(wc -c <"$tmp/docs.jsonl") bytes), batch $batch, server $uri" >&2

now() { date +%s.%N; }
# hms RUN-NAME ARGS...: time hms-store insert into a fresh database, print docs/s.
hms() {
	local db=$1
	shift
	local t0 t1
	t0=$(now)
	"$tmp/hms-store" insert --uri "$uri" --db "$db" -c docs --batch "$batch" "$@" <"$tmp/docs.jsonl" 2>"$tmp/err" ||
		die "hms-store failed: $(cat "$tmp/err")"
	t1=$(now)
	grep -q "inserted $docs," "$tmp/err" || die "hms-store did not insert everything: $(cat "$tmp/err")"
	awk -v n="$docs" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }'
}
# raw RUN-NAME ARGS...: the driver peer into a fresh database, print docs/s.
raw() {
	local db=$1
	shift
	"$tmp/store-raw" -uri "$uri" -db "$db" -c docs -batch "$batch" "$@" <"$tmp/docs.jsonl" | awk '{print $(NF-1)}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# Three pairings, alternating within each round:
#   id-field: hms-store --id-field n   vs  raw with _id = n
#   new-ids:  hms-store --new-ids      vs  raw, driver-made ObjectIds
#   default:  hms-store (content ids)  vs  raw with the same content ids
printf "%-6s %-9s %12s %12s %6s\n" round mode "raw docs/s" "hms docs/s" ratio | tee "$tmp/table"
for r in $(seq "$rounds"); do
	a=$(raw "ri$r" -id-field n)
	b=$(hms "hi$r" --id-field n)
	printf "%-6s %-9s %12s %12s %6s\n" "$r" id-field "$a" "$b" "$(ratio "$b" "$a")" | tee -a "$tmp/table"
	a=$(raw "rn$r")
	b=$(hms "hn$r" --new-ids)
	printf "%-6s %-9s %12s %12s %6s\n" "$r" new-ids "$a" "$b" "$(ratio "$b" "$a")" | tee -a "$tmp/table"
	a=$(raw "rd$r" -content-ids)
	b=$(hms "hd$r")
	printf "%-6s %-9s %12s %12s %6s\n" "$r" default "$a" "$b" "$(ratio "$b" "$a")" | tee -a "$tmp/table"
done
# Medians per mode (figures on a shared 2-core machine are noisy).
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for m in id-field new-ids default; do
	printf "%-6s %-9s %12s %12s %6s\n" median "$m" \
		"$(awk -v m=$m '$2 == m { print $3 }' "$tmp/table" | median)" \
		"$(awk -v m=$m '$2 == m { print $4 }' "$tmp/table" | median)" \
		"$(awk -v m=$m '$2 == m { print $5 }' "$tmp/table" | median)"
done
