package main

import (
	"sort"
	"strings"
)

// overviewPage returns hms(7): what the toolkit is, the conventions all
// binaries share (exit statuses, signals, environment), the key file format
// and the pipelines of the README. The lists are generated from the
// definitions; the prose follows the conventions of help text (see prose).
func overviewPage(bins []*command, m meta) string {
	var r roff
	r.header("hms", 7, m.date, "hms "+m.version)
	r.section("NAME")
	r.line(esc("hms - Unix pipeline tools: factoring, signed messages, RabbitMQ, MongoDB"))
	r.section("DESCRIPTION")
	r.prose(overviewIntro)
	for _, b := range bins {
		r.tagged(bold(b.name())+"(1)", b.usage)
	}
	r.section("CONVENTIONS")
	r.prose(overviewConventions)
	r.section("EXIT STATUS")
	r.paragraph("Every hms binary exits with:")
	writeExitStatuses(&r)
	r.section("SIGNALS")
	r.prose(overviewSignals)
	r.section("ENVIRONMENT")
	writeOverviewEnv(&r, bins)
	r.section("KEY FILES")
	r.prose(overviewKeyFiles)
	r.section("FILES")
	for _, f := range overviewFiles {
		r.tagged(bold(f.path), f.text)
	}
	r.prose(overviewServices)
	r.section("PIPELINES")
	r.prose(overviewPipelines)
	r.section("SEE ALSO")
	for i, b := range bins {
		punct := ","
		if i == len(bins)-1 {
			punct = ""
		}
		r.macro("BR", esc(b.name()), "(1)"+punct)
	}
	r.prose(overviewSeeAlso)
	return r.String()
}

// writeOverviewEnv lists every environment variable any binary reads, with
// the binaries and the option it stands for.
func writeOverviewEnv(r *roff, bins []*command) {
	type entry struct {
		options  map[string]bool
		binaries []string
		usage    string
	}
	byName := map[string]*entry{}
	for _, b := range bins {
		for _, e := range envVars(b) {
			x := byName[e.env]
			if x == nil {
				x = &entry{options: map[string]bool{}, usage: e.flag.usage}
				byName[e.env] = x
			}
			x.options[option(e.flag.names[0])] = true
			if len(x.binaries) == 0 || x.binaries[len(x.binaries)-1] != b.name() {
				x.binaries = append(x.binaries, b.name())
			}
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		x := byName[n]
		opts := make([]string, 0, len(x.options))
		for o := range x.options {
			opts = append(opts, o)
		}
		sort.Strings(opts)
		r.tagged(bold(n), "The value of "+strings.Join(opts, " or ")+" when it is not given, for "+
			strings.Join(x.binaries, ", ")+": "+x.usage+".")
	}
	r.prose(overviewEnvNote)
}

const overviewIntro = `
hms is a toolkit of five programs that read lines on standard input (or
arguments) and write lines on standard output, so that shell pipelines, cron,
systemd, Hadoop Streaming and Spark can compose them. It reimplements, and
goes beyond, the Python system hms_sys of "Hands-On Software Engineering with
Python": the divisors of numbers computed fast and in input order, signed
messages that cover the whole message with one key per sender, RabbitMQ
publishing and consuming that loses nothing, idempotent MongoDB persistence,
and the book's Artisan Gateway with its business rules.
`

const overviewConventions = `
Data goes to standard output; progress, summaries and diagnostics go to
standard error, as

    hms-send: error: what went wrong
    hms-send: hint: what to do about it

An input line that cannot be handled (not a number, not valid JSON, a bad
signature) is reported on standard error with its line number, and the
other lines are still handled; the exit status then says that some input
was rejected. Bad input never crashes a binary.

Every binary has --help (which lists its exit statuses), --version (-V),
which prints the release version, the commit, its date and the Go version,
and -v (--verbose). Secrets (broker passwords, keys) come from files or the
environment, never from the command line, where ps(1) and the shell history
would show them.
`

const overviewSignals = `
The first SIGINT or SIGTERM stops reading input. Work in flight (a batch
being stored, a running --exec command, messages not yet confirmed by the
broker) gets --stop-grace (default 10s) to finish and is then cancelled; a
second signal cuts the grace short.

A binary stopped before it handled all of its input says on standard error
what was done and where a rerun must start, and exits with 128 plus the
signal's number: 130 for SIGINT, 143 for SIGTERM (systemd units count 143 as
a clean stop). A binary that had handled all of its input when the signal
came exits as if none had come.

A reader of standard output that goes away (... | head) ends a binary
quietly, with status 141, as SIGPIPE would.
`

const overviewEnvNote = `
A value given on the command line wins over the environment. Put broker
passwords in AMQP_URL rather than in --url, and keys in files named by
HMS_KEY_FILE and HMS_KEYRING.
`

const overviewKeyFiles = `
hms-sign keygen writes a key file: one line

    hms-key-v1 kid=KID origin=ORIGIN [subject=SUBJECT] secret=SECRET

with mode 0600; the tools warn when a key file is readable by group or
others. KID names the key (1 to 64 of A-Z a-z 0-9 . _ -, starting with a
letter or digit; put a date in it to ease rotation). ORIGIN is the only
origin the key may sign for ([a-z][a-z0-9-]*: artisan, central-office,
orchestrator, worker, dispatcher). SUBJECT, optional, says whom the key
speaks for within its origin, e.g. an artisan's oid. SECRET is at least 32
random bytes in unpadded base64url.

A keyring is key files concatenated (cat a.key b.key > ring); blank lines
and lines starting with # are ignored, and each kid appears once. To rotate
a key, add the new one to the keyrings, switch the signer to it, then
delete the old line: deleting a line revokes that key.

A signed message, an envelope, is one JSON object per line (at most 1 MiB)
with exactly the members data, id, ts, origin, operation, kid and
signature. The signature is the lower-case hex HMAC-SHA256, under the key
kid, of the canonical encoding of the envelope without its signature (no
whitespace, members sorted, numbers exactly as written), so it covers every
field; an envelope whose origin is not its key's origin is rejected. The
format, with test vectors, is docs/message-format.md; the keys and the
legacy hms_sys scheme, docs/hms-sign.md.
`

// overviewFiles are the files the Debian package installs that a user
// edits or runs: the systemd units of scripts/systemd, each with its
// environment file (TestFilesNameTheUnits keeps the list complete).
var overviewFiles = []struct{ path, text string }{
	{"/etc/hms/gateway.env, /etc/hms/worker.env, /etc/hms/dispatcher.env",
		"The configuration of the services below, one file each: broker and database URLs, " +
			"queue names and key paths, read by systemd as EnvironmentFile. They are installed " +
			"as commented examples to edit (scripts/systemd/*.env in the source), as conffiles " +
			"that upgrades keep, readable by root and the hms group only."},
	{"/usr/lib/systemd/system/hms-gateway.service", "The Artisan Gateway: hms-recv hands batches of " +
		"the gateway queue to hms-store apply, which verifies, checks and stores them (gateway.env)."},
	{"/usr/lib/systemd/system/hms-worker@.service", "A worker of the factoring cluster, one instance " +
		"per process (hms-worker@1, hms-worker@2, ...): it factors the chunks of the work queue and " +
		"sends the results (worker.env)."},
	{"/usr/lib/systemd/system/hms-dispatcher.service", "The dispatcher of the factoring cluster: it " +
		"stores the results queue in MongoDB with hms-store insert (dispatcher.env)."},
	{"/usr/lib/hms/cluster/, /usr/lib/hms/cron/", "The factoring cluster's worker and dispatcher scripts " +
		"and the cron jobs (scripts/cluster and scripts/cron in the source)."},
}

const overviewServices = `
The services run as the hms user. None is enabled or started on install:
systemctl enable --now hms-gateway, or hms-worker@{1..4} and hms-dispatcher.
SIGTERM stops them cleanly (exit status 143, which the units count as
success); they log to the journal (journalctl -u hms-gateway). The source's
scripts/systemd holds the same units for an install under /usr/local, with
the steps in their comments.
`

const overviewPipelines = `
Factor numbers into MongoDB:

    seq 1 100000 | hms-factors --format json |
        hms-store insert -c factors --id-field n

Factoring across machines (chapter 19): an orchestrator signs chunks of
numbers and queues them; workers compete for them; a dispatcher stores the
results. A work message is acked only after its results were confirmed by
the broker, a result only after it was stored, and the store is idempotent:
a crash anywhere means redelivery, never loss nor duplicates.

    # orchestrator
    seq 1 1000000 |
        hms-sign sign --key orch.key --operation factors_of \
            --chunk 1000 |
        hms-send --queue hms.factors.work
    # worker (as many as you like, anywhere)
    hms-recv --queue hms.factors.work --prefetch 8 --batch 4 \
        --reject-codes 65 --exec worker-batch.sh
    # where worker-batch.sh runs
    hms-sign verify --keyring ring --emit data |
        hms-factors --format json |
        hms-sign sign --key worker.key --operation dispatch_results \
            --chunk 1000 |
        hms-send --queue hms.factors.results
    # dispatcher
    hms-recv --queue hms.factors.results --batch 10 --reject-codes 65 \
        --exec dispatcher-batch.sh
    # where dispatcher-batch.sh runs
    hms-sign verify --keyring ring --emit data |
        hms-store insert --collection factors --id-field n

The Artisan Gateway (chapters 16 to 18): signed create, update and delete
messages from artisans and the central office, verified, checked against
the book's rules and stored, each message at most once:

    # producer (central office)
    hms-sign sign --key co.key --operation create < artisan.json |
        hms-send --queue hms.gateway
    # the gateway (the hms-gateway service runs it)
    hms-recv --queue hms.gateway --batch 100 \
        --exec 'hms-store apply --keyring /etc/hms/gateway.ring'

Hadoop Streaming, hms-factors as mapper and reducer:

    hadoop jar hadoop-streaming.jar -files hms-factors \
        -input /numbers -output /factors \
        -mapper "hms-factors --format tsv --hadoop" \
        -reducer "hms-factors reduce --hadoop"

Spark: rdd.pipe with hms-factors --format tsv --workers 1; an empty
partition gives no output and exit status 0.

Cron (each job takes a lock, so that runs never overlap):

    */5 * * * * /usr/lib/hms/cron/factors-spool.sh \
        /var/spool/hms/numbers /var/lib/hms/factors.tsv
`

const overviewSeeAlso = `
systemctl(1), journalctl(1), systemd.exec(5) (EnvironmentFile).

The README and docs/ of the hms source, installed in /usr/share/doc/hms/ by
the Debian package: message-format.md (the envelope, byte by byte),
hms-sign.md (keys), gateway.md (the Artisan Gateway's rules and its
service), production.md (the factoring cluster's services and their
environment files, on a RabbitMQ cluster and a MongoDB replica set), and
one page per binary.
`
