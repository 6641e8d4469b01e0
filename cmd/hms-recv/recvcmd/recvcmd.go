// Package recvcmd is the command line of hms-recv. Main is separate from
// package main so the testscript harness can run it in-process.
package recvcmd

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hms-toolkit/hms/pkg/amqpcli"
	"github.com/hms-toolkit/hms/pkg/amqprecv"
	"github.com/hms-toolkit/hms/pkg/clilog"
	"github.com/hms-toolkit/hms/pkg/cmdutil"
	"github.com/hms-toolkit/hms/pkg/metrics"
)

const description = `Consumes queue Q and writes each message body to stdout as a line, or feeds
batches of lines to a command (--exec). A message is acked only after it
was handled: written and flushed to stdout, or given to a command that
exited 0. If hms-recv dies first, the broker delivers the message again
(at-least-once: a consumer must tolerate duplicates; the message-id helps).

A body containing a newline cannot be one line: it is dead-lettered, unless
--format json, which writes {"body":..., "message_id":..., "headers":...}
per message (body_base64 for a body that is not UTF-8).

Dead letters: a declared queue Q gets x-dead-letter-exchange "" and
x-dead-letter-routing-key "Q.dead", and the durable queue Q.dead. A
message hms-recv gives up on is copied to Q.dead with the header
x-hms-reason, then acked. If Q already exists with other arguments, the
broker refuses the declaration (PRECONDITION_FAILED): hms-recv stops with
that message; use --no-declare to consume it as it is (rejected messages
then follow the queue's own dead-letter settings, or are dropped).

--exec CMD runs 'sh -c CMD', in a process group of its own, with up to
--batch lines on its stdin; its output goes to hms-recv's stdout. Exit 0
acks the batch; an exit status in --reject-codes dead-letters it (poison);
any other failure, or a run longer than --exec-timeout (its process group
gets SIGTERM, then SIGKILL), requeues it and waits before the next batch
(--backoff, doubling up to 1m). With --drain, hms-recv gives up (exit 1)
when only failing messages are left: 3 runs have failed on messages that
had all failed before, and none settled its batch since.

SIGINT/SIGTERM stop consuming: written lines are acked, a batch being
gathered goes back to the queue, and a running command gets --stop-grace to
finish (its batch is then settled); after that, or at a second signal, its
process group gets SIGTERM, then SIGKILL, and its batch goes back to the
queue. hms-recv then exits 130/143.

--metrics-addr HOST:PORT serves Prometheus metrics (/metrics) and whether
the broker connection is up (/healthz).

A cluster: give each node (--url repeated, or AMQP_URL with the URLs
separated by spaces); after a connection loss hms-recv moves on to the next
node, in order, for up to --retry-for in all. --quorum declares Q and Q.dead
as quorum queues (replicated), Q dead-lettering at least once.

Exit status 1: some messages were dead-lettered (see stderr), or --drain
gave up on failing messages. Exit status 2: a fatal error (bad URL or
credentials, queue declaration refused, broker gone for longer than
--retry-for, --exec command not found).`

// Main runs hms-recv as the process.
func Main() int { return cmdutil.Main(Run) }

// Run runs hms-recv with args on the given streams; ctx ends it as SIGINT does.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return cmdutil.RunApp(ctx, App(), args, stdin, stdout, stderr)
}

// App is the definition of hms-recv: flags, help and action.
func App() *cli.App {
	app := cmdutil.NewApp("hms-recv", "consume from RabbitMQ to stdout or to a command, acking only what was handled")
	app.UsageText = "hms-recv --queue Q [flags] > lines\nhms-recv --queue Q --exec CMD [--batch N] [flags]"
	app.Description = description
	app.Flags = append([]cli.Flag{
		&cli.StringFlag{Name: "queue", Aliases: []string{"q"}, Usage: "consume queue `Q` (declared durable, with Q.dead)"},
		&cli.IntFlag{Name: "prefetch", Value: 500, Usage: "`N` unacked messages the broker may send ahead (at most 65535)"},
		&cli.StringFlag{Name: "format", Value: "lines", Usage: "output `FORMAT`: lines (the body) or json (body, properties, headers)"},
		&cli.Int64Flag{Name: "count", Aliases: []string{"n"}, Usage: "stop after `N` messages"},
		&cli.BoolFlag{Name: "drain", Usage: "stop when the queue is empty (or, with --exec, holds only messages that keep failing)"},
		&cli.DurationFlag{Name: "idle-timeout", Usage: "stop after `D` without a message"},
		&cli.StringFlag{Name: "exec", Usage: "run 'sh -c `CMD`' with batches of lines on its stdin"},
		&cli.IntFlag{Name: "batch", Value: 1, Usage: "with --exec: up to `N` messages per run"},
		&cli.DurationFlag{Name: "batch-wait", Value: 200 * time.Millisecond, Usage: "with --exec: wait up to `D` to fill a batch"},
		&cli.DurationFlag{Name: "backoff", Value: time.Second, Usage: "with --exec: first wait `D` after a failed run (doubles up to 1m)"},
		&cli.StringFlag{Name: "reject-codes", Usage: "with --exec: exit `STATUSES` (e.g. 3,4) that dead-letter the batch"},
		&cli.DurationFlag{Name: "exec-timeout", DefaultText: "no limit", Usage: "with --exec: kill a run that takes longer than `D` and requeue its batch"},
		&cli.BoolFlag{Name: "verify", Usage: "pass on only envelopes that verify with --keyring; dead-letter the rest"},
		&cli.StringFlag{Name: "keyring", EnvVars: []string{"HMS_KEYRING"}, Usage: "keyring `FILE` for --verify (hms-sign key files concatenated)"},
		cmdutil.StopGraceFlag(),
		amqpcli.MetricsFlag(),
	}, amqpcli.Flags()...)
	app.Action = run
	return cmdutil.Prepare(app)
}

// setup is what the flags say: the consumer's configuration and how to
// handle the messages.
type setup struct {
	cfg  amqprecv.Config
	opt  amqprecv.Options
	exec *amqprecv.ExecOptions // nil: write lines to stdout
}

func run(c *cli.Context) error {
	log, err := amqpcli.Logger(c)
	if err != nil {
		return err
	}
	s, err := options(c, log)
	if err != nil {
		return err
	}
	ctx := c.Context
	cons := amqprecv.NewConsumer(s.cfg)
	defer cons.Close()
	stopMetrics, err := amqpcli.ServeMetrics(c, log, func(reg *metrics.Registry) {
		m := reg.Recv(&cons.Stats)
		s.opt.OnBatch = m.Batch
		if s.exec != nil {
			s.exec.OnBatch, s.exec.OnRun = m.Batch, m.Run
		}
	})
	if err != nil {
		return err
	}
	defer stopMetrics()
	if err := cons.Connect(ctx); err != nil {
		if ctx.Err() != nil {
			return cmdutil.Stopped(ctx, "")
		}
		return amqpcli.Fatal(err)
	}
	log.Info("consuming", "queue", s.cfg.Queue.Name, "prefetch", cons.Prefetch())
	st := &cons.Stats
	stopProgress := func() {}
	if c.Bool("progress") {
		stopProgress = clilog.Progress(c.App.ErrWriter, 500*time.Millisecond, st.Acked.Load, "msg", func() string {
			return fmt.Sprintf("hms-recv: acked %d, dead-lettered %d, requeued %d%s", st.Acked.Load(), st.DeadLettered.Load(), st.Requeued.Load(), st.BlockedStatus())
		})
	}
	start := time.Now()
	if s.exec != nil {
		work, cancel := cmdutil.WorkContext(ctx, c.Duration("stop-grace"))
		defer cancel()
		err = cons.ToCommand(ctx, work, *s.exec)
	} else {
		err = cons.ToWriter(ctx, c.App.Writer, s.opt)
	}
	stopProgress()
	cons.Close()
	if c.Bool("verbose") {
		fmt.Fprintf(c.App.ErrWriter, "hms-recv: %s\n", st.Summary(time.Since(start)))
	}
	return exitError(ctx, err, st)
}
