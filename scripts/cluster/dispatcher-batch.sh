#!/usr/bin/env bash
# One batch of the dispatcher: hms-recv --exec runs this with signed result
# envelopes (arrays of {"n":…,"factors":[…]}) on stdin, and it stores them,
# one document per number with _id = n. hms-store insert is idempotent (a
# number stored before counts as already present), so a batch redelivered
# after a crash adds no duplicates.
#
# Exit status, for hms-recv: 0 stored (ack); 65 bad data that retrying cannot
# fix (forged envelopes, documents the store rejects; dead-letter with
# --reject-codes 65, the rest was stored); 75 transient (the database
# failed: requeue and retry).
#
# Environment: HMS_KEYRING (keys that may send results), MONGODB_URI, HMS_DB.
set -u
hms-sign verify --keyring "$HMS_KEYRING" --emit data |
	hms-store insert --db "${HMS_DB:-hms}" --collection "${HMS_COLLECTION:-factors}" --id-field n
st=("${PIPESTATUS[@]}")
[ "${st[1]}" -le 1 ] || exit 75
[ "${st[0]}" -eq 0 ] && [ "${st[1]}" -eq 0 ] && exit 0
[ "${st[0]}" -le 1 ] && exit 65
exit 75
