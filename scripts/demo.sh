#!/usr/bin/env bash
# A guided tour of the Artisan Gateway, step by step as the book's demo:
# the initial state, the message sent, the stored state, then each failure
# case and the audit trail. It pauses for Enter between steps.
#
#   scripts/demo.sh          # interactive
#   scripts/demo.sh --yes    # straight through (the tests run it this way)
#
# It starts what it needs: RabbitMQ if nothing answers on 127.0.0.1:5672
# (or AMQP_URL), and a dev database (scripts/devdb.sh: FerretDB on a free
# port, data in a temporary directory, stopped at the end) unless MONGODB_URI
# names a server, in which case the demo uses a database of its own there
# (hms_demo_<time>) and leaves it for inspection.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

yes=0
for arg; do
	case $arg in
	-y | --yes) yes=1 ;;
	-h | --help)
		sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*) die "unknown argument '$arg' (try --help)" ;;
	esac
done

root=$(hms_root)
cd "$root"
ensure_go
ensure_rabbitmq

work=$(mktemp -d "${TMPDIR:-/tmp}/hms-demo.XXXXXX")
devdb_started=
cleanup() {
	if [ -n "$devdb_started" ]; then
		"$root/scripts/devdb.sh" stop 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bold=$(tput bold 2>/dev/null || true)
dim=$(tput dim 2>/dev/null || true)
reset=$(tput sgr0 2>/dev/null || true)

# step TITLE: a heading, after waiting for Enter (unless --yes).
step() {
	if [ "$yes" = 0 ]; then
		read -r -p "${dim}-- press Enter to continue --${reset}" _ </dev/tty
	fi
	printf '\n%s+== %s %s+%s\n' "$bold" "$1" "$(printf '=%.0s' $(seq 1 $((74 - ${#1}))))" "$reset"
}
say() { printf '%s\n' "$*"; }
# show CMD...: print a shell command, then run it.
show() {
	printf '%s$ %s%s\n' "$bold" "$*" "$reset"
	eval "$@"
}

echo "building the hms binaries..." >&2
go build -o "$work/bin/" ./cmd/...
export PATH="$work/bin:$PATH"

if [ -n "${MONGODB_URI:-}" ]; then
	db=hms_demo_$(date +%Y%m%d_%H%M%S)
else
	# A dev database of the demo's own, on a free port.
	for _ in $(seq 1 50); do
		port=$((20000 + RANDOM % 40000))
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
	done
	export HMS_DEVDB_ADDR=127.0.0.1:$port HMS_DEVDB_DIR=$work/devdb
	devdb_started=1
	eval "$("$root/scripts/devdb.sh" start)"
	db=hms_demo
fi
export HMS_DB=$db
queue=${HMS_DEMO_QUEUE:-hms.demo.gateway}
# Leftovers of an interrupted run must not leak into this one.
hms-recv --queue "$queue" --drain >/dev/null

cd "$work"
A=a0000000-0000-4000-8000-00000000000a
B=b0000000-0000-4000-8000-00000000000b
P=c0000000-0000-4000-8000-00000000000a
O=d0000000-0000-4000-8000-000000000001

# The gateway, as deployed, is 'hms-recv --queue Q --exec "hms-store apply"'
# running all the time; here it handles what is pending and stops (--drain),
# so each step shows its own effect.
gateway() {
	show "hms-recv --queue $queue --drain --batch 100 --exec 'hms-store apply --keyring ring --db $db${1:+ $1}'"
}
# send FILE KEY OP: sign the data in FILE with KEY and publish it.
send() {
	show "hms-sign sign --key $2 --operation $3 < $1 | hms-send --queue $queue"
}
find_() { show "hms-store find --db $db --collection $1 ${2:+--filter '$2'} --fields ${3:-_id}"; }
artisan_fields=contact_name,contact_email,company_name,website,address,queue_id,created,modified

step "Keys: one per sender, bound to its origin (and an artisan's oid)"
say "The central office and two artisans each get a key; the gateway's keyring"
say "holds them all. The origin, and an artisan's identity, come from the key:"
say "a message cannot claim them."
show "hms-sign keygen --kid central-office-1 --origin central-office --out co.key"
show "hms-sign keygen --kid artisan-a-1 --origin artisan --subject $A --out a.key"
show "hms-sign keygen --kid artisan-b-1 --origin artisan --subject $B --out b.key"
show "cat co.key a.key b.key > ring && chmod 600 ring"

step "Central office creating an artisan"
cat >artisan.json <<EOF
{"target":"artisan","properties":{"oid":"$A","contact_name":"Ann Smith","contact_email":"ann@example.com","address":{"street_address":"1 Main St","city":"Springfield"},"queue_id":"hms.artisan.a","signing_key":"$(printf '1f%.0s' $(seq 64))"}}
EOF
say "Initial state: the artisan the office wants to create."
show "cat artisan.json"
say "Stored before: (nothing)"
find_ artisans "{\"_id\":\"$A\"}"
send artisan.json co.key create
gateway
say "Stored after:"
find_ artisans "{\"_id\":\"$A\"}" "$artisan_fields"

step "Failures that must change nothing"
say "1. A tampered message: signed, then its data changed on the way."
show "hms-sign sign --key co.key --operation update < artisan.json | sed 's/Ann Smith/Mallory/' | hms-send --queue $queue"
say "2. Correctly signed but invalid data: website = 12.345 (the book's example)."
cat >invalid.json <<EOF
{"target":"artisan","properties":{"oid":"$A","website":12.345}}
EOF
send invalid.json co.key update
say "3. A role not allowed: an artisan creating an artisan."
cat >artisan-b.json <<EOF
{"target":"artisan","properties":{"oid":"$B","contact_name":"Bea","contact_email":"bea@example.com","address":{"street_address":"2 Elm St","city":"Springfield"}}}
EOF
send artisan-b.json a.key create
gateway
say "Stored after: unchanged, and no artisan $B."
find_ artisans "" "$artisan_fields"

step "Central office updating the artisan, and creating a second one"
cat >update.json <<EOF
{"target":"artisan","properties":{"oid":"$A","company_name":"Smith Woodworks","website":"https://smith.example.com"}}
EOF
send update.json co.key update
send artisan-b.json co.key create
gateway
find_ artisans "" "$artisan_fields"

step "An artisan updating itself"
cat >self.json <<EOF
{"target":"artisan","properties":{"oid":"$A","contact_name":"Ann Smith-Jones","address":{"street_address":"3 Oak Ave","city":"Shelbyville"}}}
EOF
send self.json a.key update
say "...while it may not change its own signing key, nor touch another artisan:"
cat >self-key.json <<EOF
{"target":"artisan","properties":{"oid":"$A","signing_key":"$(printf '2e%.0s' $(seq 64))"}}
EOF
send self-key.json a.key update
cat >other.json <<EOF
{"target":"artisan","properties":{"oid":"$B","contact_name":"Hijacked"}}
EOF
send other.json a.key update
gateway
find_ artisans "" "$artisan_fields"

step "Products: the artisan creates one, the office makes it available"
cat >product.json <<EOF
{"target":"product","properties":{"oid":"$P","name":"Business-card holder","summary":"Cherry and oak","description":"Hand made.\nOiled finish.","shipping_weight":0.25,"available":true}}
EOF
send product.json a.key create
cat >store.json <<EOF
{"target":"product","properties":{"oid":"$P","store_available":true}}
EOF
say "An artisan may not decide store availability; the central office may:"
send store.json a.key update
send store.json co.key update
gateway
find_ products "" name,artisan_id,shipping_weight,available,store_available

step "Orders: the office creates one, the artisan fulfils part of it"
cat >order.json <<EOF
{"target":"order","properties":{"oid":"$O","name":"Jane Customer","street_address":"4 Pine Rd","city":"Capital City","items":{"$P":3}}}
EOF
send order.json co.key create
cat >fulfil.json <<EOF
{"target":"order","properties":{"oid":"$O","fulfilled_items":{"$P":2}}}
EOF
send fulfil.json a.key update
say "Artisan B may not fulfil A's item; A may not fulfil more than was ordered:"
cat >fulfil-b.json <<EOF
{"target":"order","properties":{"oid":"$O","fulfilled_items":{"$P":3}}}
EOF
send fulfil-b.json b.key update
cat >fulfil-too-many.json <<EOF
{"target":"order","properties":{"oid":"$O","fulfilled_items":{"$P":4}}}
EOF
send fulfil-too-many.json a.key update
gateway
find_ orders "" name,items,fulfilled_items

step "Redelivery: the same message twice takes effect once"
say "Replaying the first update after later ones changes nothing (its id was applied):"
show "hms-sign sign --key co.key --operation update < update.json > once.msg"
show "cat once.msg once.msg | hms-send --queue $queue"
gateway -v
find_ artisans "{\"_id\":\"$A\"}" _rev
say "The memory of applied messages, which outlives the objects:"
find_ applied "{\"oid\":\"$A\"}" operation,time

step "Central office deleting an artisan"
cat >delete.json <<EOF
{"target":"artisan","properties":{"oid":"$B"}}
EOF
send delete.json co.key delete
gateway
find_ artisans "" contact_name
say "The deleted record is archived:"
find_ deleted "" collection,oid,time

step "The audit trail: every rejected message, with its reason and time"
find_ rejected "" time,origin,operation,target,reason

printf '\n%sDone.%s The gateway in production: see docs/gateway.md and scripts/systemd/.\n' "$bold" "$reset"
