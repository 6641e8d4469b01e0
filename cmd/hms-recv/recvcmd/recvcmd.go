// Package recvcmd is the command line of hms-recv. Main is separate from
// package main so the testscript harness can run it in-process.
package recvcmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hms-toolkit/hms/pkg/amqpcli"
	"github.com/hms-toolkit/hms/pkg/amqprecv"
	"github.com/hms-toolkit/hms/pkg/clilog"
	"github.com/hms-toolkit/hms/pkg/cmdutil"
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

--exec CMD runs 'sh -c CMD' with up to --batch lines on its stdin; its
output goes to hms-recv's stdout. Exit 0 acks the batch; an exit status in
--reject-codes dead-letters it (poison); any other failure requeues it and
waits before the next batch (--backoff, doubling up to 1m).

A cluster: give each node (--url repeated, or AMQP_URL with the URLs
separated by spaces); after a connection loss hms-recv moves on to the next
node, in order, for up to --retry-for in all. --quorum declares Q and Q.dead
as quorum queues (replicated), Q dead-lettering at least once.

SIGINT/SIGTERM stop consuming: written lines are acked, a running command
finishes and its batch is settled, everything else goes back to the queue.

Exit status 1: some messages were dead-lettered (see stderr). Exit status
2: a fatal error (bad URL or credentials, queue declaration refused, broker
gone for longer than --retry-for, --exec command not found).`

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
		&cli.BoolFlag{Name: "drain", Usage: "stop when the queue is empty"},
		&cli.DurationFlag{Name: "idle-timeout", Usage: "stop after `D` without a message"},
		&cli.StringFlag{Name: "exec", Usage: "run 'sh -c `CMD`' with batches of lines on its stdin"},
		&cli.IntFlag{Name: "batch", Value: 1, Usage: "with --exec: up to `N` messages per run"},
		&cli.DurationFlag{Name: "batch-wait", Value: 200 * time.Millisecond, Usage: "with --exec: wait up to `D` to fill a batch"},
		&cli.DurationFlag{Name: "backoff", Value: time.Second, Usage: "with --exec: first wait `D` after a failed run (doubles up to 1m)"},
		&cli.StringFlag{Name: "reject-codes", Usage: "with --exec: exit `STATUSES` (e.g. 3,4) that dead-letter the batch"},
		&cli.BoolFlag{Name: "verify", Usage: "pass on only envelopes that verify with --keyring; dead-letter the rest"},
		&cli.StringFlag{Name: "keyring", EnvVars: []string{"HMS_KEYRING"}, Usage: "keyring `FILE` for --verify (hms-sign key files concatenated)"},
	}, amqpcli.Flags()...)
	app.Action = run
	return cmdutil.Prepare(app)
}

func run(c *cli.Context) error {
	if c.NArg() > 0 {
		return cmdutil.Fatalf("unexpected argument %q", c.Args().First()).WithHint("quote the command: --exec 'CMD ARGS'")
	}
	log, err := amqpcli.Logger(c)
	if err != nil {
		return err
	}
	q := c.String("queue")
	if q == "" {
		return cmdutil.Fatalf("no queue: give --queue Q").WithHint("see 'hms-recv --help'")
	}
	if err := amqpcli.CheckQueue(c, q); err != nil {
		return err
	}
	if err := amqpcli.CheckDurations(c, "idle-timeout", "batch-wait", "backoff"); err != nil {
		return err
	}
	opt := amqprecv.Options{Count: c.Int64("count"), Drain: c.Bool("drain"), IdleTimeout: c.Duration("idle-timeout")}
	switch c.String("format") {
	case "lines":
	case "json":
		opt.JSON = true
	default:
		return cmdutil.Fatalf("--format %q: want lines or json", c.String("format"))
	}
	if opt.Count < 0 {
		return cmdutil.Fatalf("--count %d: want a positive number", opt.Count)
	}
	cmd := c.String("exec")
	if cmd == "" {
		for _, f := range []string{"batch", "batch-wait", "reject-codes", "backoff"} {
			if c.IsSet(f) {
				return cmdutil.Fatalf("--%s needs --exec", f)
			}
		}
	}
	if n := c.Int("batch"); n < 1 || n > amqprecv.MaxPrefetch {
		// A batch is taken within one prefetch window.
		return cmdutil.Fatalf("--batch %d: want 1 to %d", n, amqprecv.MaxPrefetch)
	}
	reject := map[int]bool{}
	if s := c.String("reject-codes"); s != "" {
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 || n > 255 {
				return cmdutil.Fatalf("--reject-codes: %q is not an exit status (1-255)", f)
			}
			reject[n] = true
		}
	}
	if !c.Bool("verify") && c.IsSet("keyring") && os.Getenv("HMS_KEYRING") == "" {
		return cmdutil.Fatalf("--keyring needs --verify")
	}
	if c.Bool("verify") {
		check, err := verifier(c)
		if err != nil {
			return err
		}
		opt.Check = check
	}
	prefetch := c.Int("prefetch")
	if prefetch < 1 || prefetch > amqprecv.MaxPrefetch {
		return cmdutil.Fatalf("--prefetch %d: want 1 to %d", prefetch, amqprecv.MaxPrefetch)
	}
	if cmd != "" {
		prefetch = max(prefetch, c.Int("batch"))
	} else if opt.Count > 0 && opt.Count < int64(prefetch) {
		prefetch = int(opt.Count) // don't take messages only to hand them back
	}
	cfg := amqprecv.Config{
		Queue: amqpcli.Queue(c, q), Prefetch: prefetch,
		RetryFor: c.Duration("retry-for"), Log: log,
	}
	if cfg.Conn, err = amqpcli.Conn(c); err != nil {
		return err
	}

	ctx := c.Context
	stderr := c.App.ErrWriter
	cons := amqprecv.NewConsumer(cfg)
	defer cons.Close()
	if err := cons.Connect(ctx); err != nil {
		if ctx.Err() != nil {
			return cmdutil.Stopped(ctx, "")
		}
		return amqpcli.Fatal(err)
	}
	log.Info("consuming", "queue", q, "prefetch", prefetch)
	st := &cons.Stats
	stopProgress := func() {}
	if c.Bool("progress") {
		stopProgress = clilog.Progress(stderr, 500*time.Millisecond, st.Acked.Load, "msg", func() string {
			return fmt.Sprintf("hms-recv: acked %d, dead-lettered %d, requeued %d%s", st.Acked.Load(), st.DeadLettered.Load(), st.Requeued.Load(), amqpcli.BlockedNow(&st.Stats))
		})
	}
	start := time.Now()
	if cmd != "" {
		err = cons.ToCommand(ctx, amqprecv.ExecOptions{
			Options: opt, Command: cmd, Batch: c.Int("batch"), BatchWait: c.Duration("batch-wait"),
			RejectCodes: reject, BackoffMin: c.Duration("backoff"),
			Stdout: c.App.Writer, Stderr: stderr,
		})
	} else {
		err = cons.ToWriter(ctx, c.App.Writer, opt)
	}
	stopProgress()
	cons.Close()
	if c.Bool("verbose") {
		el := time.Since(start)
		fmt.Fprintf(stderr, "hms-recv: acked %d, dead-lettered %d, requeued %d, to be redelivered %d; %d reconnects, %.0f msg/s%s\n",
			st.Acked.Load(), st.DeadLettered.Load(), st.Requeued.Load(), st.Lost.Load(), st.Reconnects.Load(),
			float64(st.Acked.Load())/el.Seconds(), amqpcli.BlockedTotal(&st.Stats))
	}
	switch {
	case cmdutil.IsBrokenPipe(err):
		return err
	case err != nil:
		return amqpcli.Fatal(err)
	case ctx.Err() != nil:
		return cmdutil.Stopped(ctx, "")
	case st.DeadLettered.Load() > 0:
		return cmdutil.Partial
	}
	return nil
}
