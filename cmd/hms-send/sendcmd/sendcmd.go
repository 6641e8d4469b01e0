// Package sendcmd is the command line of hms-send. Main is separate from
// package main so the testscript harness can run it in-process.
package sendcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/urfave/cli/v2"

	"github.com/hms-toolkit/hms/pkg/amqpcli"
	"github.com/hms-toolkit/hms/pkg/amqpconn"
	"github.com/hms-toolkit/hms/pkg/amqpsend"
	"github.com/hms-toolkit/hms/pkg/clilog"
	"github.com/hms-toolkit/hms/pkg/cmdutil"
	"github.com/hms-toolkit/hms/pkg/lines"
	"github.com/hms-toolkit/hms/pkg/metrics"
)

const description = `Each line of stdin becomes one persistent message (the body is the line
without its newline). Publisher confirms are always on: hms-send exits 0
only when the broker confirmed every line. Unroutable messages are errors
(mandatory flag), not silent drops. If the connection drops, hms-send
reconnects with backoff and publishes every unconfirmed message again with
the same message-id, for up to --retry-for. Lines it could not get confirmed
are reported, and written to --failed FILE so a rerun can finish the job:

   hms-send -q work --failed failed.txt < lines || hms-send -q work < failed.txt

The message-id is the "id" of a line that is a well-formed hms envelope
(all its fields, of the right form; the signature is not checked), and
RUNID-LINENUMBER for every other line, JSON or not: such a line never
shares its message-id, by which consumers drop duplicates. Empty lines are
skipped (counted in the summary); lines over --max-size bytes are errors.

With --queue the queue is declared durable, with a dead-letter queue Q.dead
(see hms-recv); --no-declare uses an existing queue as it is. A queue or
exchange name the broker would change (a line break) or refuse (not UTF-8)
is a usage error.

SIGINT/SIGTERM stop reading; the messages in flight get --stop-grace to be
confirmed (a second signal cuts it short), the lines not confirmed go to
--failed, and hms-send exits 130/143 saying from which line to resume. If
every line had been read and confirmed, it exits as if no signal came.

--metrics-addr HOST:PORT serves Prometheus metrics (/metrics) and whether
the broker connection is up (/healthz), for long-running feeds such as
'tail -F log | hms-send ...'.

A cluster: give each node (--url repeated, or AMQP_URL with the URLs
separated by spaces). After a connection loss hms-send moves on to the next
node, in order; --retry-for bounds the whole outage. While the broker blocks
publishing (a memory or disk alarm), it says so once and waits.

Exit status 1: some lines were not sent (unroutable, refused by the broker,
too long), the others were confirmed. Exit status 2: nothing more could be
done (bad URL or credentials, missing queue with --no-declare, broker gone
for longer than --retry-for); the summary says how far it got.`

// Main runs hms-send as the process.
func Main() int { return cmdutil.Main(Run) }

// Run runs hms-send with args on the given streams; ctx ends it as SIGINT does.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return cmdutil.RunApp(ctx, App(), args, stdin, stdout, stderr)
}

// App is the definition of hms-send: flags, help and action.
func App() *cli.App {
	app := cmdutil.NewApp("hms-send", "publish lines to RabbitMQ, with publisher confirms")
	app.UsageText = "hms-send --queue Q [flags] < lines\nhms-send --exchange X --routing-key K [flags] < lines"
	app.Description = description
	app.Flags = append([]cli.Flag{
		&cli.StringFlag{Name: "queue", Aliases: []string{"q"}, Usage: "publish to queue `Q` (declared durable, with Q.dead)"},
		&cli.StringFlag{Name: "exchange", Aliases: []string{"e"}, Usage: "publish to exchange `X` (which must exist)"},
		&cli.StringFlag{Name: "routing-key", Aliases: []string{"k"}, Usage: "routing `KEY` with --exchange"},
		&cli.IntFlag{Name: "window", Value: 512, Usage: "at most `N` messages published and not yet confirmed (at most 65535)"},
		&cli.StringFlag{Name: "content-type", Usage: "content-type property `TYPE` of every message, e.g. application/json"},
		&cli.StringSliceFlag{Name: "header", Usage: "add header `K=V` to every message (repeatable)"},
		&cli.StringFlag{Name: "failed", Usage: "write the lines not confirmed to `FILE`, for a rerun"},
		&cli.IntFlag{Name: "max-size", Value: amqpsend.MaxSize, Usage: "longest line in `BYTES`; longer lines are errors"},
		cmdutil.StopGraceFlag(),
		amqpcli.MetricsFlag(),
	}, amqpcli.Flags()...)
	app.Action = run
	return cmdutil.Prepare(app)
}

func run(c *cli.Context) error {
	if err := cmdutil.NoArgs(c, "hms-send reads stdin"); err != nil {
		return err
	}
	log, err := amqpcli.Logger(c)
	if err != nil {
		return err
	}
	cfg, err := config(c, log)
	if err != nil {
		return err
	}
	feed := amqpsend.Feed{In: c.App.Reader, MaxSize: c.Int("max-size"), Log: log, BadLine: func(e *amqpsend.LineError) {
		if tl, ok := errors.AsType[*lines.TooLongError](e); ok {
			log.Error(fmt.Sprintf("line %d: longer than the %d-byte message limit (--max-size): not sent", e.Line, tl.Max))
			return
		}
		log.Error(e.Error())
	}}
	if path := c.String("failed"); path != "" {
		// Not the input itself (hms-send --failed rest < rest, to finish an
		// earlier run): creating it would lose every line before it is read.
		f, err := cmdutil.CreateOutput("--failed", path, c.App.Reader)
		if err != nil {
			return err
		}
		defer f.Close()
		feed.Failed = f
	}
	p := amqpsend.New(cfg)
	var lineStats amqpsend.FeedStats
	stopMetrics, err := amqpcli.ServeMetrics(c, log, func(reg *metrics.Registry) { reg.Send(&p.Stats, &lineStats) })
	if err != nil {
		return err
	}
	defer stopMetrics()
	stopProgress := func() {}
	if c.Bool("progress") {
		stopProgress = clilog.Progress(c.App.ErrWriter, 500*time.Millisecond, p.Stats.Confirmed.Load, "msg", func() string {
			return fmt.Sprintf("hms-send: read %d, confirmed %d%s", p.Stats.Read.Load(), p.Stats.Confirmed.Load(), p.Stats.BlockedStatus())
		})
	}
	work, cancel := cmdutil.WorkContext(c.Context, c.Duration("stop-grace"))
	defer cancel()
	res := p.Publish(c.Context, work, feed, &lineStats)
	stopProgress()
	return report(c, res)
}

// config is the publisher's configuration from the flags.
func config(c *cli.Context, log *slog.Logger) (amqpsend.Config, error) {
	cfg := amqpsend.Config{
		Exchange:    c.String("exchange"),
		RoutingKey:  c.String("routing-key"),
		Window:      c.Int("window"),
		ContentType: c.String("content-type"),
		RetryFor:    c.Duration("retry-for"),
		Log:         log,
	}
	if err := target(c, &cfg); err != nil {
		return cfg, err
	}
	if err := amqpcli.CheckDurations(c, "stop-grace"); err != nil {
		return cfg, err
	}
	if cfg.Window < 1 || cfg.Window > amqpsend.MaxWindow {
		return cfg, cmdutil.Fatalf("--window %d: want 1 to %d", cfg.Window, amqpsend.MaxWindow)
	}
	if c.Int("max-size") < 1 {
		return cfg, cmdutil.Fatalf("--max-size %d: want at least 1", c.Int("max-size"))
	}
	if err := amqpcli.CheckNames("--routing-key", cfg.RoutingKey, "--content-type", cfg.ContentType); err != nil {
		return cfg, err
	}
	for _, h := range c.StringSlice("header") {
		k, v, ok := strings.Cut(h, "=")
		if !ok || k == "" {
			return cfg, cmdutil.Fatalf("--header %q: want KEY=VALUE", h)
		}
		if err := amqpcli.CheckNames("a --header name", k); err != nil {
			return cfg, err
		}
		if cfg.Headers == nil {
			cfg.Headers = amqp.Table{}
		}
		cfg.Headers[k] = v
	}
	var err error
	if cfg.Conn, err = amqpcli.Conn(c); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// target checks --queue, or --exchange and --routing-key.
func target(c *cli.Context, cfg *amqpsend.Config) error {
	q := c.String("queue")
	switch {
	case q != "" && cfg.Exchange != "":
		return cmdutil.Fatalf("--queue and --exchange exclude each other").
			WithHint("to publish to a queue through an exchange, bind it and use --exchange and --routing-key")
	case q != "":
		cfg.Queue = amqpcli.Queue(c, q)
		return amqpcli.CheckQueue(c, q)
	case cfg.Exchange == "":
		return cmdutil.Fatalf("no target: give --queue Q, or --exchange X --routing-key K").WithHint("see 'hms-send --help'")
	}
	if err := amqpconn.CheckName(cfg.Exchange); err != nil {
		return cmdutil.Fatalf("--exchange %v", err)
	}
	return nil
}

// report prints the summary and turns the result into the exit status.
func report(c *cli.Context, res *amqpsend.Result) error {
	stderr, path := c.App.ErrWriter, c.String("failed")
	if !res.AllHandled() || c.Bool("verbose") {
		fmt.Fprintf(stderr, "hms-send: %s\n", res.Summary())
	}
	if res.Failed > 0 && path != "" {
		are := "are"
		if res.Failed == 1 {
			are = "is"
		}
		fmt.Fprintf(stderr, "hms-send: the %d %s not confirmed %s in %s\n", res.Failed, cmdutil.Plural(res.Failed, "line"), are, path)
	}
	switch {
	case res.FailedErr != nil:
		return cmdutil.Fatalf("--failed %s: %v", path, res.FailedErr)
	case res.PublishErr != nil:
		return amqpcli.Fatal(res.PublishErr)
	case res.ReadErr != nil:
		return cmdutil.Fatalf("reading stdin: %v", res.ReadErr)
	case res.Stopped:
		return stopped(c.Context, res, path)
	case !res.AllHandled():
		return cmdutil.Partial
	}
	return nil
}

// stopped is the error of a run a signal stopped: what was done, and where
// a rerun must start.
func stopped(ctx context.Context, res *amqpsend.Result, failedPath string) error {
	next := res.LastRead + 1
	switch {
	case failedPath != "" && res.InputDone:
		return cmdutil.Stopped(ctx, "every line was read, but not all were confirmed").
			WithHint("send the lines in " + failedPath + " again: hms-send ... < " + failedPath)
	case failedPath != "" && res.Failed > 0:
		return cmdutil.Stopped(ctx, "the input after line %d was not read", res.LastRead).
			WithHint(fmt.Sprintf("resume with: { cat %s; tail -n +%d INPUT; } | hms-send ...", failedPath, next))
	case res.FirstNotSent > 0:
		what := fmt.Sprintf("lines from %d on were not all confirmed", res.FirstNotSent)
		if !res.InputDone {
			what += fmt.Sprintf(", and the input after line %d was not read", res.LastRead)
		}
		return cmdutil.Stopped(ctx, "%s", what).WithHint(fmt.Sprintf(
			"resume with: tail -n +%d INPUT | hms-send ... (with --failed FILE, only what is missing would be sent again)", res.FirstNotSent))
	}
	if res.LastRead == 0 {
		return cmdutil.Stopped(ctx, "no line was read")
	}
	return cmdutil.Stopped(ctx, "the input after line %d was not read", res.LastRead).
		WithHint(fmt.Sprintf("resume with: tail -n +%d INPUT | hms-send ...", next))
}
