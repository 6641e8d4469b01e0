#!/usr/bin/env bash
# A factoring worker: takes work from the work queue as a competing consumer
# and runs worker-batch.sh on each delivery. Start as many as you like, on as
# many machines; RabbitMQ spreads the work, and a worker that dies hands its
# unacknowledged work back to the queue for the others. Stops cleanly on
# SIGTERM. Extra arguments go to hms-recv (e.g. --drain).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec hms-recv --queue "${HMS_WORK_QUEUE:-hms.factors.work}" --prefetch "${HMS_PREFETCH:-2}" \
	--batch 1 --reject-codes 65 --exec "$here/worker-batch.sh" "$@"
