#!/usr/bin/env bash
# A real N-node RabbitMQ cluster on this one machine, from Debian's
# rabbitmq-server package, for tests, demos and benchmarks. It never touches
# the machine's own broker (rabbit@localhost on 5672): every node has its own
# name, ports, config file, data, logs and Erlang cookie, under one directory.
#
#   scripts/rabbitmq-cluster.sh start [N]    # start (or complete) an N-node cluster (3)
#   scripts/rabbitmq-cluster.sh status [N]   # each node: running or not, and its URL
#   scripts/rabbitmq-cluster.sh urls [N]     # the nodes' URLs, space-separated, for AMQP_URL
#   scripts/rabbitmq-cluster.sh stop [N]     # stop every node (data kept: start resumes)
#   scripts/rabbitmq-cluster.sh clean        # stop every node and delete the directory
#   scripts/rabbitmq-cluster.sh stop-node I  # stop node I (1-based) only
#   scripts/rabbitmq-cluster.sh start-node I # start node I again (it rejoins by itself)
#   scripts/rabbitmq-cluster.sh ctl I ARGS   # rabbitmqctl ARGS against node I
#
#   AMQP_URL=$(scripts/rabbitmq-cluster.sh urls) hms-send -q work --quorum < lines
#
# start is idempotent: running nodes are kept, stopped ones are started,
# nodes not yet clustered join node 1. A cluster that was stopped whole
# starts again with its data (all nodes at once, as RabbitMQ wants). start
# and status exit 1 when a node is not running; errors exit 2.
#
# Environment:
#   HMS_CLUSTER_DIR   where the nodes live (/tmp/hms-rabbitmq-cluster); the
#                     rabbitmq user must be able to reach it when run as root
#   HMS_CLUSTER_PORT  AMQP port of node 1 (5681); node I listens on PORT+I-1,
#                     and its Erlang distribution on that + 20000
#   HMS_CLUSTER_NAME  node name prefix (hms): node I is hmsI@localhost
#   HMS_CLUSTER_USER  AMQP user/password in the printed URLs (guest:guest;
#                     guest may connect from 127.0.0.1 only, as here)
#
# As root, the nodes run as the rabbitmq user (as the package's own broker
# does); as another user, they run as that user.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
PATH=$PATH:/usr/sbin:/sbin # rabbitmq-server and rabbitmqctl, for users whose PATH lacks them

DIR=${HMS_CLUSTER_DIR:-/tmp/hms-rabbitmq-cluster}
PORT=${HMS_CLUSTER_PORT:-5681}
NAME=${HMS_CLUSTER_NAME:-hms}
CREDS=${HMS_CLUSTER_USER:-guest:guest}
HOST=localhost
TIMEOUT=${HMS_CLUSTER_TIMEOUT:-180} # seconds a node may take to start
declare -A launched # node number -> pid of its VM, for nodes this run starts

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
	exit 0
}

[[ $PORT =~ ^[0-9]+$ ]] && ((PORT > 1024 && PORT + 20000 < 65500)) || die "HMS_CLUSTER_PORT=$PORT: want a port from 1025 to 45000"
[[ $NAME =~ ^[a-z][a-z0-9_-]*$ ]] || die "HMS_CLUSTER_NAME=$NAME: want a lowercase name"
((PORT > 5672 || PORT + 9 <= 5672)) || die "HMS_CLUSTER_PORT=$PORT: the nodes' ports would include 5672, the machine's broker's"

bindir() {
	local s
	s=$(command -v rabbitmq-server) || die "rabbitmq-server is not installed (apt-get install rabbitmq-server)"
	dirname "$(readlink -f "$s")"
}

node() { echo "$NAME$1@$HOST"; }
port() { echo $((PORT + $1 - 1)); }
ndir() { echo "$DIR/$NAME$1"; }
url() { echo "amqp://$CREDS@127.0.0.1:$(port "$1")/"; }

# node_env I: set NODE_CMD to the command prefix that runs a command with
# node I's environment, as the nodes' user.
node_env() {
	local i=$1 d
	d=$(ndir "$i")
	local env=(
		HOME="$d" # the cluster's own Erlang cookie, for the node and rabbitmqctl
		RABBITMQ_CONF_ENV_FILE="$DIR/rabbitmq-env.conf"
		RABBITMQ_NODENAME="$(node "$i")"
		RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf"
		RABBITMQ_ADVANCED_CONFIG_FILE="$d/advanced.config"
		RABBITMQ_DIST_PORT=$(($(port "$i") + 20000))
		RABBITMQ_MNESIA_BASE="$d/mnesia"
		RABBITMQ_LOG_BASE="$d/log"
		RABBITMQ_PID_FILE="$d/pid"
		RABBITMQ_ENABLED_PLUGINS_FILE="$DIR/enabled_plugins"
		ERL_EPMD_ADDRESS=127.0.0.1
		RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
		PATH="$PATH"
	)
	NODE_CMD=(env -i "${env[@]}")
	if ((EUID == 0)); then
		# setpriv execs (runuser would stay as the parent).
		NODE_CMD=(setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups "${NODE_CMD[@]}")
	fi
}

# as_node I CMD...: run CMD with node I's environment, as the nodes' user.
as_node() {
	node_env "$1"
	shift
	"${NODE_CMD[@]}" "$@"
}

ctl() {
	local i=$1
	shift
	as_node "$i" "$(bindir)/rabbitmqctl" -n "$(node "$i")" "$@"
}

# pid I: the pid of node I's Erlang VM when it is alive, else nothing.
pid() {
	local f p
	f=$(ndir "$1")/pid
	[[ -s $f ]] || return 1
	p=$(<"$f")
	[[ $p =~ ^[0-9]+$ ]] && kill -0 "$p" 2>/dev/null || return 1
	# The pid may have been reused: it must be this node's VM.
	tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF -- "-home $(ndir "$1") " || return 1
	echo "$p"
}

# running I: node I's VM is alive and its AMQP listener accepts connections
# (it opens last when the node boots, and closes with stop_app).
running() { pid "$1" >/dev/null && ! port_free "$(port "$1")"; }

# port_free P: nothing listens on 127.0.0.1:P.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

prepare() {
	local n=$1 i d
	mkdir -p "$DIR"
	chmod 755 "$DIR"
	if [[ ! -s $DIR/.erlang.cookie ]]; then
		head -c 15 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F >"$DIR/.erlang.cookie"
	fi
	chmod 400 "$DIR/.erlang.cookie"
	: >"$DIR/rabbitmq-env.conf" # not /etc/rabbitmq/rabbitmq-env.conf: it names the machine's node
	[[ -e $DIR/enabled_plugins ]] || echo '[].' >"$DIR/enabled_plugins"
	for ((i = 1; i <= n; i++)); do
		d=$(ndir "$i")
		mkdir -p "$d/mnesia" "$d/log"
		install -m 400 "$DIR/.erlang.cookie" "$d/.erlang.cookie"
		cat >"$d/rabbitmq.conf" <<-EOF
			# node $i of the hms test cluster (scripts/rabbitmq-cluster.sh)
			listeners.tcp.local = 127.0.0.1:$(port "$i")
			loopback_users.guest = true
			log.file.level = info
			log.console = false
			# On its first boot, a blank node joins node 1 (the broker's own
			# peer discovery; node 1, which lists only itself, is the seed).
			cluster_formation.peer_discovery_backend = classic_config
			cluster_formation.classic_config.nodes.1 = $(node 1)
		EOF
	done
	if ((EUID == 0)); then
		chown -R rabbitmq:rabbitmq "$DIR"
		runuser -u rabbitmq -- test -w "$DIR" ||
			die "$DIR: the rabbitmq user cannot write there (a parent directory is not searchable?); set HMS_CLUSTER_DIR"
	fi
}

# start_nodes I...: start the given nodes at once, and wait for each to boot.
start_nodes() {
	local i p bin
	bin=$(bindir)
	for i in "$@"; do
		p=$(port "$i")
		port_free "$p" || die "port $p (node $i) is taken by another program"
		port_free $((p + 20000)) || die "port $((p + 20000)) (distribution of node $i) is taken by another program"
		rm -f "$(ndir "$i")/pid" # a stale one would name a dead VM
		echo "starting $(node "$i") on 127.0.0.1:$p..." >&2
		# In the background, in a session of its own (not -detached): $! is
		# the node's server script, so a node that dies while it boots is
		# seen at once. exec, so that no copy of our stdout stays open in
		# it (a caller reading our output to its end would wait forever).
		(
			exec </dev/null >"$(ndir "$i")/log/startup.log" 2>&1
			node_env "$i"
			exec "${NODE_CMD[@]}" setsid "$bin/rabbitmq-server"
		) &
		launched[i]=$!
	done
	for i in "$@"; do
		await "$i"
	done
}

# await I: wait until node I accepts AMQP connections (its listener opens
# when it has booted), or fail when its VM dies or TIMEOUT passes.
await() {
	local i=$1 deadline=$((SECONDS + TIMEOUT)) started=$SECONDS
	until running "$i"; do
		if ((SECONDS > deadline)) || ! kill -0 "${launched[i]}" 2>/dev/null; then
			tail -n 20 "$(ndir "$i")/log/startup.log" "$(ndir "$i")/log/$(node "$i").log" >&2 2>/dev/null || true
			die "node $i did not start (after $((SECONDS - started))s); its logs are in $(ndir "$i")/log"
		fi
		read -r -t 0.2 <> <(:) || true # poll; bash has no sub-second sleep builtin
	done
}

# members: the disc nodes of node 1's cluster, as JSON.
members() { ctl 1 -q cluster_status --formatter json 2>/dev/null; }

# join I: node I (fresh, or of another cluster) joins node 1's cluster.
join() {
	local i=$1 log
	log=$(ndir "$i")/log/join.log
	echo "joining $(node "$i") to $(node 1)..." >&2
	# rabbitmqctl prints the node's log noise while it joins: keep it aside.
	{
		ctl "$i" -q stop_app &&
			ctl "$i" -q reset &&
			ctl "$i" -q join_cluster "$(node 1)" &&
			ctl "$i" -q start_app
	} >"$log" 2>&1 || {
		cat "$log" >&2
		die "node $i could not join $(node 1)"
	}
}

count() {
	local n=${1:-}
	if [[ -z $n ]]; then
		n=0
		while [[ -d $(ndir $((n + 1))) ]]; do n=$((n + 1)); done
		((n > 0)) || n=3
	fi
	[[ $n =~ ^[0-9]+$ ]] && ((n >= 1 && n <= 9)) || die "N=$n: want 1 to 9 nodes"
	echo "$n"
}

cmd_start() {
	local n i
	n=$(count "${1:-3}")
	ensure_rabbitmq_package
	prepare "$n"
	local down=()
	for ((i = 1; i <= n; i++)); do
		running "$i" || down+=("$i")
	done
	if [[ ! -d $(ndir 1)/mnesia/$(node 1) ]] && ((${#down[@]} == n)); then
		# A new cluster: node 1 first, alone, so that it is the seed the
		# others find and join as they boot (together, they might each
		# find nobody and make clusters of one).
		start_nodes 1
		down=("${down[@]:1}")
	fi
	((${#down[@]} == 0)) || start_nodes "${down[@]}"
	if ((n > 1)); then
		local m
		m=$(members)
		for ((i = 2; i <= n; i++)); do
			[[ $m == *"\"$(node "$i")\""* ]] || join "$i"
		done
	fi
	cmd_status "$n"
}

cmd_status() {
	local n i all=0
	n=$(count "${1:-}")
	for ((i = 1; i <= n; i++)); do
		if running "$i"; then
			printf '%s %-16s running  %s\n' "$i" "$(node "$i")" "$(url "$i" | sed 's/:[^:@]*@/:xxxxx@/')"
		else
			printf '%s %-16s stopped  %s\n' "$i" "$(node "$i")" "$(url "$i" | sed 's/:[^:@]*@/:xxxxx@/')"
			all=1
		fi
	done
	return $all
}

cmd_urls() {
	local n i urls=()
	n=$(count "${1:-}")
	for ((i = 1; i <= n; i++)); do urls+=("$(url "$i")"); done
	echo "${urls[*]}"
}

# stop_node I: stop node I, waiting for its VM to exit; kill it (by its
# pid) if it does not stop in time.
stop_node() {
	local i=$1 p
	p=$(pid "$i") || return 0
	echo "stopping $(node "$i")..." >&2
	if ! ctl "$i" -q stop "$(ndir "$i")/pid" >/dev/null 2>&1; then
		if p=$(pid "$i"); then
			echo "$(node "$i") did not stop; killing pid $p" >&2
			kill -KILL "$p" 2>/dev/null || true
		fi
	fi
}

cmd_stop() {
	local n i
	n=$(count "${1:-}")
	[[ -d $DIR ]] || return 0
	# In parallel: a node stopping alone waits for its peers' quorum queues.
	local pids=()
	for ((i = 1; i <= n; i++)); do
		stop_node "$i" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p"; done
}

cmd_clean() {
	[[ -d $DIR ]] || return 0
	# Only a directory this script made: it deletes everything in it.
	[[ -f $DIR/rabbitmq-env.conf && -f $DIR/enabled_plugins && -d $(ndir 1) ]] ||
		die "HMS_CLUSTER_DIR=$DIR is not a cluster directory of this script; not deleting it"
	cmd_stop ""
	rm -rf "$DIR"
}

node_arg() {
	[[ ${1:-} =~ ^[1-9]$ ]] || die "want a node number, 1 to 9"
	[[ -d $(ndir "$1") ]] || die "node $1 does not exist; start the cluster first"
}

case ${1:-} in
start) cmd_start "${2:-}" ;;
status) cmd_status "${2:-}" ;;
urls) cmd_urls "${2:-}" ;;
stop) cmd_stop "${2:-}" ;;
clean) cmd_clean ;;
stop-node)
	node_arg "${2:-}"
	stop_node "$2"
	;;
start-node)
	node_arg "${2:-}"
	running "$2" || start_nodes "$2"
	;;
ctl)
	node_arg "${2:-}"
	i=$2
	shift 2
	ctl "$i" "$@"
	;;
-h | --help | help) usage ;;
*) die "unknown command '${1:-}': want start, status, urls, stop, clean, stop-node, start-node or ctl (see --help)" ;;
esac
