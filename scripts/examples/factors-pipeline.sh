#!/usr/bin/env bash
# hms-factors in shell pipelines: the book's TEST_NUMBERS, a range, GNU
# factor's format, JSON for jq, and an early exit with head.
#
#   scripts/examples/factors-pipeline.sh      (builds bin/hms-factors if needed)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${HMS_FACTORS:-bin/hms-factors}
[ -x "$bin" ] || CGO_ENABLED=0 go build -trimpath -o "$bin" ./cmd/hms-factors

echo "# the book's TEST_NUMBERS, as arguments"
"$bin" 11 16 101 102 1001 1000001 1000000001

echo "# the book's serial workload, through a pipe, in input order"
seq 10000000 10000999 | "$bin" | tail -2

echo "# prime factors, exactly as GNU factor prints them (128-bit too)"
echo 340282366920938463463374607431768211455 | "$bin" --format factor

echo "# primes below 100: the numbers with no divisors listed"
seq 2 100 | "$bin" --format tsv | awk -F'\t' '$2 == "" { printf "%s ", $1 } END { print "" }'

echo "# JSON lines, exact integers"
"$bin" --format json 18446744073709551615

echo "# endless input, early exit: head closes the pipe, hms-factors stops at once"
seq 1 1000000000000 | "$bin" | head -3
