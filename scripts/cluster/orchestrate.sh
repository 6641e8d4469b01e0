#!/usr/bin/env bash
# The orchestrator: reads numbers on stdin, signs them in chunks of
# HMS_CHUNK (1000) numbers per work envelope and publishes them to the work
# queue, with publisher confirms: exit 0 means every chunk is in the broker.
# Environment: HMS_ORCH_KEY (signing key), HMS_WORK_QUEUE, AMQP_URL,
# HMS_QUEUE_FLAGS (e.g. --quorum: see worker-batch.sh).
set -euo pipefail
hms-sign sign --key "$HMS_ORCH_KEY" --operation factors_of --chunk "${HMS_CHUNK:-1000}" |
	hms-send --queue "${HMS_WORK_QUEUE:-hms.factors.work}" ${HMS_QUEUE_FLAGS:-} "$@"
