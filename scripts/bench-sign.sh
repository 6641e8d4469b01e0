#!/usr/bin/env bash
# Benchmarks hms-sign on one core:
#   1. go test -bench: Signer.AppendSign and Verifier.Verify on a ~300-byte
#      data, against raw crypto/hmac (HMAC-SHA256) of the same bytes in the
#      same run: envelopes/s per core and the overhead ratio;
#   2. end to end through the binary, pinned to one CPU with GOMAXPROCS=1:
#      hms-sign sign < N lines > /dev/null, and hms-sign verify < N envelopes
#      > /dev/null. Reports envelopes/s per wall second and per CPU second
#      (user+sys): on a shared machine the CPU figure is the steadier one.
#
#   scripts/bench-sign.sh            # N = 1000000
#   N=200000 scripts/bench-sign.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$(hms_root)"
ensure_go
N=${N:-1000000}
CPU=${CPU:-0}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pin() { if command -v taskset >/dev/null; then taskset -c "$CPU" "$@"; else "$@"; fi; }

echo "== go test -bench (GOMAXPROCS=1)" >&2
go test -run '^$' -bench '^Benchmark(Sign|Verify|HMAC)$' -benchtime "${BENCHTIME:-2s}" -cpu 1 ./pkg/message/ |
	tee "$work/bench.txt" | grep '^Benchmark'
awk '/^BenchmarkSign/ {s=$3} /^BenchmarkVerify/ {v=$3} /^BenchmarkHMAC/ {h=$3}
	END {
		printf "sign:   %8.0f envelopes/s per core, %.1fx the raw HMAC-SHA256 cost (%.0f ns vs %.0f ns)\n", 1e9/s, s/h, s, h
		printf "verify: %8.0f envelopes/s per core, %.1fx the raw HMAC-SHA256 cost (%.0f ns vs %.0f ns)\n", 1e9/v, v/h, v, h
	}' "$work/bench.txt"

echo "== end to end: $N lines of ~300-byte JSON, one CPU" >&2
go build -o "$work/hms-sign" ./cmd/hms-sign
awk -v n="$N" 'BEGIN {
	for (i = 0; i < n; i++)
		printf "{\"target\":\"product\",\"properties\":{\"oid\":\"p-%d\",\"name\":\"Business-card holder\",\"summary\":\"Cherry and oak business-card holder\",\"description\":\"Line one, line two\",\"price\":12.5,\"quantities\":[1,2,3,9223372036854775807],\"metadata\":{\"wood\":\"Cherry, Oak\",\"finish\":\"oil\"},\"available\":true,\"weight\":0.25}}\n", i
}' >"$work/data"
"$work/hms-sign" keygen --kid bench --origin artisan --out "$work/key" 2>/dev/null
"$work/hms-sign" sign --key "$work/key" --operation update <"$work/data" >"$work/signed"
printf 'data line: %d bytes, envelope line: %d bytes\n' "$(head -1 "$work/data" | wc -c)" "$(head -1 "$work/signed" | wc -c)"

measure() { # name, then the command
	local name=$1 t
	shift
	TIMEFORMAT='%R %U %S'
	t=$({ time "$@" >/dev/null; } 2>&1 | tail -1)
	read -r real user sys <<<"$t"
	awk -v name="$name" -v n="$N" -v r="$real" -v u="$user" -v s="$sys" 'BEGIN {
		printf "%-7s %5.2fs wall %5.2fs cpu  %9.0f envelopes/s (wall)  %9.0f envelopes/s (per CPU second)\n", name, r, u + s, n / r, n / (u + s)
	}'
}
export GOMAXPROCS=1
measure sign pin "$work/hms-sign" sign --key "$work/key" --operation update <"$work/data"
measure verify pin "$work/hms-sign" verify --key "$work/key" <"$work/signed"
measure emit pin "$work/hms-sign" verify --key "$work/key" --emit data <"$work/signed"
echo "(load average: $(cut -d' ' -f1-3 /proc/loadavg); other work on the machine makes wall figures noisy)"
