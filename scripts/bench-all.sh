#!/usr/bin/env bash
# Runs every benchmark script of the project, one after the other, and writes
# docs/benchmarks.md (each script's tables as printed, the exact command, the
# machine, the date, one table of all the ratios against their targets) and
# docs/benchmarks.svg (a chart of those ratios, drawn by scripts/bench/chart).
# A script that fails is recorded in the document with the tail of its
# stderr; the others still run, and bench-all exits 1 at the end.
#
#   scripts/bench-all.sh                    # full sizes (8 minutes on 2 shared cores)
#   scripts/bench-all.sh --quick            # small sizes, to try it out (3 minutes)
#   scripts/bench-all.sh --out /tmp/b sign amqp    # only these, written to /tmp/b
#
# Benchmarks: factors sign amqp store cluster. Needs what they need: Go,
# GNU factor, python3, PARI/GP, amqp-tools, RabbitMQ (started if absent).
# The machine's other load skews the figures: the load average is recorded
# before and after each script. BENCH_TIMEOUT (seconds, default 3600) stops
# a script that hangs; it counts as failed.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
here=$PWD
root=$(hms_root)
cd "$root"
ensure_go

usage() { # usage STATUS
	sed -n '2,/^set /s/^# \{0,1\}//p' "$0" >&2
	exit "$1"
}
quick=0
out=$root/docs
only=()
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--out) [ $# -ge 2 ] || usage 2; out=$2; shift ;;
	--out=*) out=${1#--out=} ;;
	-h | --help) usage 0 ;;
	-*) echo "bench-all: unknown flag $1" >&2; usage 2 ;;
	*) only+=("$1") ;;
	esac
	shift
done
[ "${BENCH_QUICK:-0}" = 1 ] && quick=1
case $out in /*) ;; *) out=$here/$out ;; esac # --out is relative to where we were called

all=(factors sign amqp store cluster)
# The exact commands, run from the repository root.
declare -A full=(
	[factors]="scripts/bench-factors.sh"
	[sign]="scripts/bench-sign.sh"
	[amqp]="scripts/bench-amqp.sh"
	[store]="scripts/bench-store.sh"
	[cluster]="scripts/bench-cluster.sh"
)
declare -A small=(
	[factors]="REPEAT=1 scripts/bench-factors.sh"
	[sign]="N=100000 ITER=30000 scripts/bench-sign.sh"
	[amqp]="N=5000 N_TOOLS=100 ROUNDS=1 scripts/bench-amqp.sh"
	[store]="scripts/bench-store.sh 5000 1"
	[cluster]="scripts/bench-cluster.sh 10000"
)
declare -A what=(
	[factors]="hms-factors against GNU factor, PARI/GP divisors() and the book's Python trial division"
	[sign]="hms-sign sign and verify, one CPU: go test -bench against raw HMAC-SHA256, and end to end through the binary"
	[amqp]="hms-send and hms-recv against a raw amqp091-go publisher/consumer and amqp-tools, same broker"
	[store]="hms-store insert against the raw Go driver's InsertMany of the same documents, same server (FerretDB dev server)"
	[cluster]="The factoring cluster (scripts/cluster: orchestrator, 2 workers) against plain hms-factors and one process per number"
)
if [ ${#only[@]} -eq 0 ]; then only=("${all[@]}"); fi
for b in "${only[@]}"; do
	[ -n "${full[$b]:-}" ] || { echo "bench-all: no benchmark \"$b\" (have: ${all[*]})" >&2; exit 2; }
done

mkdir -p "$out" || die "cannot create $out"
raw=$(mktemp -d)
trap 'rm -rf "$raw"' EXIT
go build -o "$raw/chart" ./scripts/bench/chart || die "cannot build scripts/bench/chart"

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo '?')
[ -n "$(git status --porcelain 2>/dev/null)" ] && commit="$commit (with uncommitted changes)"
started=$(date -u '+%Y-%m-%d %H:%M UTC')
load0=$(loadavg)
mode=$([ $quick = 1 ] && echo quick || echo full)

# section NAME: the markdown of one benchmark, from the files in $raw.
section() {
	local b=$1 f=$raw/$1
	echo "## $b"
	echo
	echo "${what[$b]}."
	echo
	if [ ! -e "$f.status" ]; then
		echo "Not run."
		echo
		return
	fi
	echo '```sh'
	cat "$f.cmd"
	echo '```'
	echo
	echo "Started $(cat "$f.start"), took $(cat "$f.secs") s; load average $(cat "$f.load0") before, $(cat "$f.load1") after."
	echo
	local status
	status=$(cat "$f.status")
	if [ "$status" != 0 ]; then
		echo "**FAILED** with exit status $status. Last lines of its stderr:"
		echo
		echo '```'
		tail -n 25 "$f.err"
		echo '```'
		echo
		if [ -s "$f.out" ]; then
			echo "What it printed on stdout before failing:"
			echo
		fi
	fi
	if grep -q '^|' "$f.out"; then
		# Markdown tables: as printed, minus leading blank lines.
		sed '/./,$!d' "$f.out"
	elif [ -s "$f.out" ]; then
		echo '```'
		sed '/./,$!d' "$f.out"
		echo '```'
	fi
	echo
	if [ "$status" = 0 ] && [ -s "$f.err" ]; then
		echo "<details><summary>progress on stderr (last 40 lines)</summary>"
		echo
		echo '```'
		tail -n 40 "$f.err"
		echo '```'
		echo
		echo "</details>"
		echo
	fi
}

# render: write the document (and the chart) from what has run so far.
render() {
	local doc=$out/benchmarks.md tmpdoc
	tmpdoc=$(mktemp "$out/.benchmarks.md.XXXXXX")
	{
		echo "# Benchmarks"
		echo
		echo "Written by \`scripts/bench-all.sh$([ $quick = 1 ] && echo ' --quick')\`, which runs every benchmark script of the"
		echo "project in turn. Each figure is measured against a peer in the same run on the same machine;"
		echo "the ratios are what the targets are stated in."
		if [ $quick = 1 ]; then
			echo
			echo "**Quick run (--quick): small sizes, to try the scripts out. These figures are not the project's measurements.**"
		fi
		echo
		echo "| | |"
		echo "|---|---|"
		echo "| date | $started (finished $(date -u '+%H:%M UTC')) |"
		echo "| machine | $(nproc) CPUs ($cpu), $mem memory, $(uname -sr) |"
		echo "| Go | $(go version | sed 's/^go version //') |"
		echo "| load average at start | $load0 (1, 5, 15 min; the machine is shared: wall-clock figures are pessimistic when it is high) |"
		echo "| commit | $commit |"
		echo "| mode | $mode: $(for b in "${only[@]}"; do printf '%s ' "$b"; done)|"
		if [ ${#failed[@]} -gt 0 ]; then
			echo "| **failed** | ${failed[*]} (see their sections) |"
		fi
		echo
		echo "## Ratios against their targets"
		echo
		echo "![ratio of each benchmark to its peer, with its target](benchmarks.svg)"
		echo
		echo "[benchmarks.svg](benchmarks.svg): one bar per ratio that has a target, log scale. The rows come"
		echo "from the scripts' outputs below; where a script prints no target (bench-amqp, bench-store,"
		echo "bench-sign) the target is the one its issue states. hms-sign's target is a rate"
		echo "(200,000 envelopes/s on one core, end to end), shown as the ratio of the measured rate to it."
		echo 'The chart is drawn from the table below: `go run ./scripts/bench/chart svg docs/benchmarks.md >docs/benchmarks.svg`.'
		echo
		echo "<!-- chart-subtitle: $started · $(nproc) CPUs ($cpu) · load average at start $load0 · $mode run -->"
		echo
		"$raw/chart" ratios "$raw"
		echo
		for b in "${only[@]}"; do section "$b"; done
	} >"$tmpdoc"
	mv "$tmpdoc" "$doc"
	"$raw/chart" svg "$doc" >"$raw/svg" && mv "$raw/svg" "$out/benchmarks.svg"
}

failed=()
for b in "${only[@]}"; do
	if [ $quick = 1 ]; then cmd=${small[$b]}; else cmd=${full[$b]}; fi
	f=$raw/$b
	echo "$cmd" >"$f.cmd"
	date -u '+%H:%M:%S UTC' >"$f.start"
	loadavg >"$f.load0"
	echo "== $b: $cmd   (load average $(cat "$f.load0"))" >&2
	t0=$SECONDS
	# stderr goes to the file and, for the impatient, to ours.
	{ timeout -k 60 "${BENCH_TIMEOUT:-3600}" bash -c "$cmd" 2>&1 >&3 3>&- | tee "$f.err" | sed -u "s/^/   $b: /" >&2; } 3>"$f.out"
	status=${PIPESTATUS[0]}
	if [ "$status" = 124 ]; then echo "bench-all: timed out after ${BENCH_TIMEOUT:-3600}s (BENCH_TIMEOUT)" >>"$f.err"; fi
	echo $((SECONDS - t0)) >"$f.secs"
	loadavg >"$f.load1"
	echo "$status" >"$f.status"
	if [ "$status" != 0 ]; then
		failed+=("$b")
		echo "== $b FAILED (exit status $status); continuing" >&2
	fi
	render
done

echo "== wrote $out/benchmarks.md and $out/benchmarks.svg" >&2
if [ ${#failed[@]} -gt 0 ]; then
	echo "bench-all: failed: ${failed[*]} (see $out/benchmarks.md)" >&2
	exit 1
fi
