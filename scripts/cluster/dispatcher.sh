#!/usr/bin/env bash
# The dispatcher: consumes the results queue and stores every result through
# dispatcher-batch.sh, a few envelopes per run. Stops cleanly on SIGTERM.
# Extra arguments go to hms-recv (e.g. --drain).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# HMS_QUEUE_FLAGS (e.g. --quorum) declare the queues the same way everywhere.
# shellcheck disable=SC2086 # HMS_QUEUE_FLAGS holds several words
exec hms-recv --queue "${HMS_RESULTS_QUEUE:-hms.factors.results}" ${HMS_QUEUE_FLAGS:-} --prefetch 20 \
	--batch "${HMS_DISPATCH_BATCH:-10}" --batch-wait 100ms --reject-codes 65 \
	--exec "$here/dispatcher-batch.sh" "$@"
