# Shared shell helpers for the scripts in this folder; source it.
# shellcheck shell=bash

hms_root() { cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd; }

die() { echo "$(basename "$0"): error: $*" >&2; exit 2; }

# amqp_up: is something accepting connections on RabbitMQ's port?
amqp_up() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }

# ensure_rabbitmq: RabbitMQ must answer on 127.0.0.1:5672. If it does not,
# install Debian's rabbitmq-server when missing, start it, and wait for it
# (polling, with a deadline). Skipped when AMQP_URL points elsewhere.
ensure_rabbitmq() {
	case "${AMQP_URL:-}" in
	"" | *127.0.0.1* | *localhost*) ;;
	*) return 0 ;;
	esac
	amqp_up && return 0
	ensure_rabbitmq_package
	echo "starting rabbitmq-server..." >&2
	rabbitmq-server -detached >&2 || true
	local deadline=$((SECONDS + 120))
	until amqp_up; do
		((SECONDS < deadline)) || die "RabbitMQ did not come up on 127.0.0.1:5672 within 120s"
		# Poll, not a fixed wait: the broker usually answers within seconds.
		read -r -t 0.5 <> <(:) || true
	done
}

# ensure_rabbitmq_package: Debian's rabbitmq-server package must be
# installed (the test cluster of scripts/rabbitmq-cluster.sh runs its own
# nodes of it); install it when missing.
ensure_rabbitmq_package() {
	PATH=$PATH:/usr/sbin:/sbin
	command -v rabbitmq-server >/dev/null 2>&1 && return 0
	echo "installing rabbitmq-server (Debian package)..." >&2
	command -v apt-get >/dev/null 2>&1 || die "rabbitmq-server is missing and apt-get too; install RabbitMQ (3.10 or later)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2 && apt-get install -y -qq rabbitmq-server >&2 ||
		die "could not install rabbitmq-server"
}

# ensure_go: the Go toolchain must be on PATH.
ensure_go() {
	command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"
	command -v go >/dev/null 2>&1 || die "the Go toolchain is missing (https://go.dev/dl/); Go 1.26 or later"
}
