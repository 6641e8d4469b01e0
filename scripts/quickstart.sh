#!/usr/bin/env bash
# The main job on a fresh machine, end to end, non-interactively:
#   1. builds the five binaries into bin/ (static, CGO_ENABLED=0);
#   2. factors the book's TEST_NUMBERS and a range through a pipeline;
#   3. runs a small factoring cluster on RabbitMQ (started, or installed
#      from Debian's packages, if absent) storing into the dev database
#      (FerretDB, started here) and checks every stored result;
#   4. walks through the Artisan Gateway demo (scripts/demo.sh --yes).
# Each step says what it does on stderr; results go to stdout.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
root=$(hms_root)
cd "$root"
step() { if [ -t 2 ]; then printf "\n\033[1m== %s\033[0m\n" "$*" >&2; else printf "\n== %s\n" "$*" >&2; fi; }

step "1. building bin/hms-factors, hms-sign, hms-send, hms-recv, hms-store"
ensure_go
CGO_ENABLED=0 go build -trimpath -o bin/ ./cmd/...
export PATH="$root/bin:$PATH"

step "2. the book's TEST_NUMBERS, then 10,000,000..10,000,005 through a pipeline"
echo '$ echo 11 16 101 102 1001 1000001 1000000001 | hms-factors' >&2
echo 11 16 101 102 1001 1000001 1000000001 | hms-factors
echo '$ seq 10000000 10000005 | hms-factors --format factor' >&2
seq 10000000 10000005 | hms-factors --format factor

step "3. a factoring cluster: orchestrator -> 2 workers -> dispatcher -> MongoDB"
ensure_rabbitmq
scripts/factor-cluster.sh 20000 1000000000000

step "4. the Artisan Gateway walkthrough (scripts/demo.sh --yes)"
scripts/demo.sh --yes

step "done: binaries in bin/, docs in README.md and docs/; the tests: scripts/test.sh"
