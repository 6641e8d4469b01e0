#!/usr/bin/env bash
# One batch of a factoring worker: hms-recv --exec runs this with signed work
# envelopes (arrays of numbers from the orchestrator) on stdin. It verifies
# them, factors the numbers, signs the results in chunks and publishes them.
# hms-send exits 0 only when the broker confirmed every result, so hms-recv
# acks the work only once its results are safe.
#
# Exit status, for hms-recv: 0 done (ack); 65 the batch holds bad data —
# forged or tampered envelopes, invalid numbers — which retrying cannot fix
# (run hms-recv with --reject-codes 65 to dead-letter it; the valid part was
# still processed); 75 a transient failure (requeue and retry).
#
# Environment: HMS_KEYRING (keys that may send work), HMS_WORKER_KEY (this
# worker's signing key), HMS_RESULTS_QUEUE, AMQP_URL (the broker, or the
# space-separated nodes of a cluster), HMS_QUEUE_FLAGS (hms-send flags that
# declare the queue, the same for every part: --quorum on a cluster).
set -u
hms-sign verify --keyring "$HMS_KEYRING" --emit data |
	hms-factors --format json |
	hms-sign sign --key "$HMS_WORKER_KEY" --operation dispatch_results --chunk "${HMS_RESULT_CHUNK:-1000}" |
	hms-send --queue "${HMS_RESULTS_QUEUE:-hms.factors.results}" ${HMS_QUEUE_FLAGS:-}
st=("${PIPESTATUS[@]}")
# Anything that stopped results reaching the broker is transient.
for s in "${st[2]}" "${st[3]}"; do
	[ "$s" -eq 0 ] || exit 75
done
[ "${st[0]}" -eq 0 ] && [ "${st[1]}" -eq 0 ] && exit 0
[ "${st[0]}" -le 1 ] && [ "${st[1]}" -le 1 ] && exit 65
exit 75
