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

echo "== go test -bench, one CPU (GOMAXPROCS=1)" >&2
go test -c -o "$work/message.test" ./pkg/message/
bench() { # name iterations: prints "name wall-ns/op cpu-ns/op"
	local t
	TIMEFORMAT='%U %S'
	t=$({ time pin env GOMAXPROCS=1 "$work/message.test" -test.run '^$' -test.bench "^Benchmark$1\$" \
		-test.benchtime "$2x" >"$work/$1.out"; } 2>&1 | tail -1)
	read -r user sys <<<"$t"
	grep "^Benchmark$1" "$work/$1.out" >&2
	awk -v b="$1" -v n="$2" -v u="$user" -v s="$sys" '/^Benchmark/ {print b, $3, (u + s) * 1e9 / n}' "$work/$1.out"
}
{
	bench Sign "${ITER:-300000}"
	bench Verify "${ITER:-300000}"
	bench HMAC "$((${ITER:-300000} * 5))"
} >"$work/bench.txt"
awk '{wall[$1] = $2; cpu[$1] = $3}
	END {
		for (i = 1; i <= 2; i++) {
			b = i == 1 ? "Sign" : "Verify"
			printf "%-6s %7.0f envelopes/s per CPU second (%5.0f ns), %4.1fx raw HMAC-SHA256 of the same bytes (%4.0f ns); wall: %6.0f ns/op vs %4.0f\n",
				tolower(b) ":", 1e9 / cpu[b], cpu[b], cpu[b] / cpu["HMAC"], cpu["HMAC"], wall[b], wall["HMAC"]
		}
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
