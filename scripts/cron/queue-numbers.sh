#!/usr/bin/env bash
# Cron job: sign the numbers in FILE in chunks of 1000 and queue them for the
# factoring workers. hms-send exits 0 only once the broker confirmed every
# message; otherwise the unconfirmed envelopes are written to FILE.failed
# (`hms-send --queue … < FILE.failed` finishes the job) and the job exits
# non-zero so cron mails the error. HMS_KEY_FILE names the signing key.
set -euo pipefail
set -a
# shellcheck source=/dev/null
[ -r /etc/hms/hms.env ] && . /etc/hms/hms.env
set +a
file=${1:?usage: queue-numbers.sh FILE}
hms-sign sign --operation factors_of --chunk 1000 <"$file" |
	hms-send --queue "${HMS_WORK_QUEUE:-hms.factors.work}" --failed "$file.failed"
