#!/usr/bin/env bash
# Benchmarks hms-factors against its peers in one run and prints a markdown
# table (workload, hms, peer, ratio, target, pass):
#   - GNU coreutils factor on the same input, with --format factor (the
#     output is checked byte for byte first): 100,000 random 64-bit numbers
#     with the default 2 workers and with --workers 1, 10^12…10^12+10^6,
#     10^7…1.1x10^7;
#   - hard numbers on one worker, against GNU factor on the same numbers:
#     20 semiprimes of two 48-bit primes (target: 100x faster); 20
#     semiprimes of two 64-bit primes, one process each (median and worst;
#     target: worst under a second; GNU factor on the first, stopped after
#     10 x GNU_TIMEOUT); 10 numbers of 40 to 58 digits whose smallest factor
#     has 12 to 20 digits (target: 10x faster; GNU factor is stopped after
#     GNU_TIMEOUT seconds, default 30, per number, and the time it was
#     given counts: a lower bound of its time);
#   - PARI/GP's divisors() on the same 100,000 random numbers, timed inside
#     gp (no I/O), against hms-factors' default divisor output, end to end;
#   - the book's serial workload (10,000,000…10,000,999) against the book's
#     Python trial division, timed on a few numbers, per number.
# Each time is the best of REPEAT runs (default 3): other processes share the
# machine's cores, so the figures are noisy; the CPU seconds (user+sys) are
# printed too.
#
#   scripts/bench-factors.sh
#   REPEAT=5 scripts/bench-factors.sh
#   GNU_TIMEOUT=120 scripts/bench-factors.sh   # let GNU factor run longer
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$(hms_root)"
ensure_go
command -v factor >/dev/null || die "GNU coreutils 'factor' is missing"
command -v python3 >/dev/null || die "python3 is missing (the book's algorithm runs in it)"
if ! command -v gp >/dev/null; then
	echo "== installing PARI/GP (Debian pari-gp)" >&2
	if [ "$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi
	$sudo apt-get install -y -q pari-gp >&2 || die "could not install pari-gp"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "== building hms-factors (CGO_ENABLED=0)" >&2
CGO_ENABLED=0 go build -trimpath -o "$work/hms-factors" ./cmd/hms-factors
exec python3 scripts/bench-factors-run.py "$work/hms-factors" "$work"
