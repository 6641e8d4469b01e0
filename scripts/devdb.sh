#!/usr/bin/env bash
# Starts and stops the MongoDB-compatible dev server (tools/hms-devdb:
# FerretDB with its SQLite backend) in the background, for demos and for
# trying hms-store without a MongoDB.
#
#   scripts/devdb.sh start     # build, start, wait until it answers, print export MONGODB_URI=...
#   scripts/devdb.sh stop      # stop it (SIGTERM) and wait until it is gone
#   scripts/devdb.sh status    # exit 0 if it runs
#   eval "$(scripts/devdb.sh start)"   # ... and export MONGODB_URI
#
# Environment: HMS_DEVDB_ADDR (default 127.0.0.1:27017), HMS_DEVDB_DIR
# (default ${XDG_STATE_HOME:-~/.local/state}/hms-devdb: data/, hms-devdb.pid,
# hms-devdb.log and the binary live there).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

addr=${HMS_DEVDB_ADDR:-127.0.0.1:27017}
dir=${HMS_DEVDB_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/hms-devdb}
pidfile=$dir/hms-devdb.pid
logfile=$dir/hms-devdb.log
host=${addr%:*}
port=${addr##*:}

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
answers() { (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; }

# wait_until CMD DESCRIPTION: poll CMD every 0.1s for up to 30s.
wait_until() {
	local deadline=$((SECONDS + 30))
	until "$1"; do
		((SECONDS < deadline)) || die "$2 (see $logfile)"
		read -r -t 0.1 <> <(:) || true
	done
}

case "${1:-}" in
start)
	if running; then
		echo "export MONGODB_URI=mongodb://$addr/"
		echo "hms-devdb already runs (pid $(cat "$pidfile"))" >&2
		exit 0
	fi
	answers && die "something else listens on $addr; set HMS_DEVDB_ADDR"
	ensure_go
	mkdir -p "$dir/data"
	echo "building tools/hms-devdb (the first build takes a minute or two)..." >&2
	(cd "$(hms_root)" && go build -o "$dir/hms-devdb" ./tools/hms-devdb)
	nohup "$dir/hms-devdb" -addr "$addr" -dir "$dir/data" >"$logfile" 2>&1 </dev/null &
	echo $! >"$pidfile"
	gone() { ! kill -0 "$(cat "$pidfile")" 2>/dev/null; }
	up() { answers || gone; }
	wait_until up "hms-devdb did not answer on $addr"
	gone && die "hms-devdb exited: $(tail -n 3 "$logfile")"
	echo "hms-devdb runs on $addr (pid $(cat "$pidfile"), data in $dir/data)" >&2
	echo "export MONGODB_URI=mongodb://$addr/"
	;;
stop)
	if ! running; then
		rm -f "$pidfile"
		echo "hms-devdb is not running" >&2
		exit 0
	fi
	pid=$(cat "$pidfile")
	kill -TERM "$pid"
	stopped() { ! kill -0 "$pid" 2>/dev/null; }
	wait_until stopped "hms-devdb (pid $pid) did not stop"
	rm -f "$pidfile"
	echo "hms-devdb stopped" >&2
	;;
status)
	if running; then
		echo "hms-devdb runs on $addr (pid $(cat "$pidfile"))"
	else
		echo "hms-devdb is not running"
		exit 1
	fi
	;;
*)
	echo "usage: $0 start|stop|status" >&2
	exit 2
	;;
esac
