#!/usr/bin/env bash
# Runs the whole test suite: gofmt, vet, unit tests, the testscript golden
# tests of every binary (testdata/script, at the root) and the integration
# suites (integration/), against a real RabbitMQ (the machine's, started or
# installed if missing; HMS_TEST_AMQP_URL=amqp://... names another) and an
# embedded FerretDB started by the test harness itself
# (HMS_TEST_MONGODB_URI=mongodb://... uses a real MongoDB instead).
#
#   scripts/test.sh              # everything
#   scripts/test.sh -run Foo ./pkg/...   # extra args go to 'go test'
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$(hms_root)"
ensure_go
# The tests read HMS_TEST_AMQP_URL only; ensure_rabbitmq looks at AMQP_URL.
AMQP_URL=${HMS_TEST_AMQP_URL:-} ensure_rabbitmq
ensure_rabbitmq_package # for the cluster tests' own nodes
command -v factor >/dev/null || die "GNU coreutils 'factor' is missing (tests compare against it)"

echo "== gofmt" >&2
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
[ -z "$unformatted" ] || die "gofmt would change: $unformatted"
echo "== go vet" >&2
go vet ./...
echo "== go test" >&2
# -count=1: the tests talk to services, so a cached result proves nothing.
if [ $# -gt 0 ]; then
	go test -count=1 -timeout 40m "$@"
else
	go test -count=1 -timeout 40m ./...
fi
