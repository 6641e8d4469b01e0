#!/usr/bin/env bash
# A factoring worker: takes work from the work queue as a competing consumer
# and runs worker-batch.sh on each delivery. Start as many as you like, on as
# many machines; RabbitMQ spreads the work, and a worker that dies hands its
# unacknowledged work back to the queue for the others. Stops cleanly on
# SIGTERM. Extra arguments go to hms-recv (e.g. --drain).
#
# Each run of worker-batch.sh takes up to HMS_WORK_BATCH (4) work messages:
# process start-up and the wait for the broker's confirms are paid once per
# batch rather than once per chunk (measured here: 0.36x plain hms-factors'
# throughput with 1, 0.66x with 4; scripts/bench-cluster.sh). A failed batch
# is retried whole, which the idempotent store makes harmless.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# HMS_QUEUE_FLAGS (e.g. --quorum) declare the queues the same way everywhere.
# shellcheck disable=SC2086 # HMS_QUEUE_FLAGS holds several words
exec hms-recv --queue "${HMS_WORK_QUEUE:-hms.factors.work}" ${HMS_QUEUE_FLAGS:-} --prefetch "${HMS_PREFETCH:-8}" \
	--batch "${HMS_WORK_BATCH:-4}" --batch-wait 20ms --reject-codes 65 --exec "$here/worker-batch.sh" "$@"
