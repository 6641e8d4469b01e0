#!/usr/bin/env bash
# The chaos test on its own, verbose: 200,000 numbers (HMS_CHAOS_N to change)
# through the factoring cluster of scripts/cluster/ — orchestrator, two
# workers, dispatcher into the dev database — while a worker is SIGKILLed
# twice, every broker connection is cut once and the database is stopped for
# a few seconds. It reports when each fault hit and how long recovery took,
# then checks that the store holds exactly one document per number and that
# a sample matches hms-factors run locally. (The same test runs in
# scripts/test.sh as TestChaosFactorCluster, in integration/.) The broker is
# HMS_TEST_AMQP_URL, or the machine's.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$(hms_root)"
ensure_go
AMQP_URL=${HMS_TEST_AMQP_URL:-} ensure_rabbitmq
exec go test -count=1 -timeout 30m -run '^TestChaosFactorCluster$' -v ./integration/
