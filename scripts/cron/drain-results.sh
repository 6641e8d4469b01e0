#!/usr/bin/env bash
# Cron job: store every pending factoring result, then exit. Run under
# `flock -n` (see crontab.example) so runs never overlap.
# /etc/hms/hms.env sets AMQP_URL, MONGODB_URI and HMS_KEYRING.
set -euo pipefail
set -a
# shellcheck source=/dev/null
[ -r /etc/hms/hms.env ] && . /etc/hms/hms.env
set +a
exec hms-recv --queue "${HMS_RESULTS_QUEUE:-hms.factors.results}" --drain --batch 20 \
	--exec 'hms-sign verify --emit data | hms-store insert --collection factors --id-field n'
