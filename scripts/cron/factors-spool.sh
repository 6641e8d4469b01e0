#!/usr/bin/env bash
# A cron job: factor every number queued in a spool file since the last run,
# append the results, keep the invalid lines for a human. flock keeps two
# runs from overlapping; the spool is rotated atomically before reading.
#
# crontab -e:
#   */5 * * * * /opt/hms/scripts/cron/factors-spool.sh /var/spool/hms/numbers /var/lib/hms/factors.tsv
#
#   scripts/cron/factors-spool.sh SPOOL RESULTS
set -euo pipefail
spool=${1:?usage: $0 SPOOL RESULTS}
results=${2:?usage: $0 SPOOL RESULTS}
bin=${HMS_FACTORS:-$(command -v hms-factors || echo "$(dirname "$0")/../../bin/hms-factors")}

exec 9>"$spool.lock"
flock -n 9 || exit 0 # the previous run is still going

[ -s "$spool" ] || exit 0
work="$spool.$$"
mv "$spool" "$work" # producers append to a fresh spool from here on
status=0
"$bin" --format tsv <"$work" >>"$results" 2>>"$results.errors" || status=$?
case $status in
0) rm -f "$work" ;;
1) rm -f "$work" ;; # good lines were written; the bad ones are in $results.errors
*) mv "$work" "$spool.failed.$(date +%s)"; exit "$status" ;;
esac
