// Package sendcmd is the command line of hms-send. Main is separate from
// package main so the testscript harness can run it in-process.
package sendcmd

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/urfave/cli/v2"

	"github.com/hms-toolkit/hms/pkg/amqpcli"
	"github.com/hms-toolkit/hms/pkg/amqpsend"
	"github.com/hms-toolkit/hms/pkg/clilog"
	"github.com/hms-toolkit/hms/pkg/cmdutil"
)

const description = `Each line of stdin becomes one persistent message (the body is the line
without its newline). Publisher confirms are always on: hms-send exits 0
only when the broker confirmed every line. Unroutable messages are errors
(mandatory flag), not silent drops. If the connection drops, hms-send
reconnects with backoff and publishes every unconfirmed message again with
the same message-id, for up to --retry-for. Lines it could not get confirmed
are reported, and written to --failed FILE so a rerun can finish the job:

   hms-send -q work --failed failed.txt < lines || hms-send -q work < failed.txt

The message-id is the "id" of a line that is an hms envelope (a JSON object
with an "id" field of at most 255 bytes), and RUNID-LINENUMBER otherwise.
Empty lines are skipped (counted in the summary); lines over --max-size
bytes are errors.

With --queue the queue is declared durable, with a dead-letter queue Q.dead
(see hms-recv); --no-declare uses an existing queue as it is.

A cluster: give each node (--url repeated, or AMQP_URL with the URLs
separated by spaces). After a connection loss hms-send moves on to the next
node, in order; --retry-for bounds the whole outage. While the broker blocks
publishing (a memory or disk alarm), it says so once and waits.

Exit status 1: some lines were not sent (unroutable, refused by the broker,
too long), the others were confirmed. Exit status 2: nothing more could be
done (bad URL or credentials, missing queue with --no-declare, broker gone
for longer than --retry-for, interrupted); the summary says how far it got.`

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
	cfg := amqpsend.Config{
		Exchange:    c.String("exchange"),
		RoutingKey:  c.String("routing-key"),
		Window:      c.Int("window"),
		ContentType: c.String("content-type"),
		RetryFor:    c.Duration("retry-for"),
		Log:         log,
	}
	if q := c.String("queue"); q != "" {
		if cfg.Exchange != "" {
			return cmdutil.Fatalf("--queue and --exchange exclude each other").
				WithHint("to publish to a queue through an exchange, bind it and use --exchange and --routing-key")
		}
		cfg.Queue = amqpcli.Queue(c, q)
	} else if cfg.Exchange == "" {
		return cmdutil.Fatalf("no target: give --queue Q, or --exchange X --routing-key K").WithHint("see 'hms-send --help'")
	}
	if err := amqpcli.CheckDurations(c); err != nil {
		return err
	}
	if cfg.Window < 1 || cfg.Window > amqpsend.MaxWindow {
		return cmdutil.Fatalf("--window %d: want 1 to %d", cfg.Window, amqpsend.MaxWindow)
	}
	if c.Int("max-size") < 1 {
		return cmdutil.Fatalf("--max-size %d: want at least 1", c.Int("max-size"))
	}
	if err := amqpcli.CheckNames("--exchange", cfg.Exchange, "--routing-key", cfg.RoutingKey, "--content-type", cfg.ContentType); err != nil {
		return err
	}
	if cfg.Exchange == "" {
		if err := amqpcli.CheckQueue(c, cfg.Queue.Name); err != nil {
			return err
		}
	}
	for _, h := range c.StringSlice("header") {
		k, v, ok := strings.Cut(h, "=")
		if !ok || k == "" {
			return cmdutil.Fatalf("--header %q: want KEY=VALUE", h)
		}
		if err := amqpcli.CheckNames("a --header name", k); err != nil {
			return err
		}
		if cfg.Headers == nil {
			cfg.Headers = amqp.Table{}
		}
		cfg.Headers[k] = v
	}
	if cfg.Conn, err = amqpcli.Conn(c); err != nil {
		return err
	}

	var failed *bufio.Writer
	if path := c.String("failed"); path != "" {
		// Not the input itself (hms-send --failed rest < rest, to finish an
		// earlier run): creating it would lose every line before it is read.
		f, err := cmdutil.CreateOutput("--failed", path, c.App.Reader)
		if err != nil {
			return err
		}
		defer f.Close()
		failed = bufio.NewWriter(f)
	}

	ctx := c.Context
	stderr := c.App.ErrWriter

	var idb [6]byte
	rand.Read(idb[:])
	runID := hex.EncodeToString(idb[:])
	lines := make(chan amqpsend.Message, 4096)
	var skippedN, rejectedN atomic.Int64 // written by the bad-lines goroutine
	badLines := make(chan *amqpsend.LineError, 64)
	readErr := make(chan error, 1)
	go func() {
		readErr <- amqpsend.ReadLines(c.App.Reader, c.Int("max-size"), runID+"-", lines,
			func(e *amqpsend.LineError) { badLines <- e }, ctx.Done())
		close(badLines)
	}()
	// Bad lines are reported from their own goroutine so the reader never
	// waits for the publisher to report them.
	badDone := make(chan struct{})
	go func() {
		defer close(badDone)
		for e := range badLines {
			if errors.Is(e, amqpsend.ErrEmpty) {
				skippedN.Add(1)
				continue
			}
			rejectedN.Add(1)
			log.Error(e.Error())
		}
	}()

	p := amqpsend.New(cfg)
	var failedN, lastLine int64
	var writeErr error
	fail := func(m amqpsend.Message, err error) {
		failedN++
		lastLine = max(lastLine, m.Line)
		if !errors.Is(err, amqpsend.ErrNotSent) {
			log.Error(fmt.Sprintf("line %d: %v", m.Line, err), "message_id", m.MessageID)
		}
		if failed != nil && writeErr == nil {
			failed.Write(m.Body)
			writeErr = failed.WriteByte('\n')
		}
	}
	stopProgress := func() {}
	if c.Bool("progress") {
		stopProgress = clilog.Progress(stderr, 500*time.Millisecond, p.Stats.Confirmed.Load, "msg", func() string {
			return fmt.Sprintf("hms-send: read %d, confirmed %d%s", p.Stats.Read.Load(), p.Stats.Confirmed.Load(), amqpcli.BlockedNow(&p.Stats.Stats))
		})
	}
	start := time.Now()
	runErr := p.Run(ctx, lines, fail)
	stopProgress()
	var rerr error
	var unsent int64 // read but never published
	if ctx.Err() != nil {
		// Interrupted: the lines read but not sent go to --failed; the
		// reader may be blocked on stdin, so don't wait for it.
	drain:
		for {
			select {
			case m, ok := <-lines:
				if !ok {
					break drain
				}
				unsent++
				fail(m, amqpsend.ErrNotSent)
			default:
				break drain
			}
		}
	} else if runErr == nil || failed != nil {
		if runErr != nil {
			// Gave up: the rest of stdin goes to --failed, for a rerun.
			for m := range lines {
				unsent++
				fail(m, amqpsend.ErrNotSent)
			}
		}
		rerr = <-readErr
		<-badDone
	}
	// Else gave up without --failed: exit now, even if stdin never ends.
	if failed != nil {
		if err := failed.Flush(); err != nil && writeErr == nil {
			writeErr = err
		}
	}
	el := time.Since(start)
	skipped, rejected := skippedN.Load(), rejectedN.Load()
	summary := fmt.Sprintf("read %d lines, confirmed %d, failed %d, rejected %d, skipped %d empty; %d republished after %d reconnects, %.0f msg/s%s",
		p.Stats.Read.Load()+unsent+rejected+skipped, p.Stats.Confirmed.Load(), failedN, rejected, skipped,
		p.Stats.Republished.Load(), p.Stats.Reconnects.Load(), float64(p.Stats.Confirmed.Load())/el.Seconds(), amqpcli.BlockedTotal(&p.Stats.Stats))
	notAll := failedN > 0 || rejected > 0 || runErr != nil || rerr != nil
	if notAll || c.Bool("verbose") {
		fmt.Fprintf(stderr, "hms-send: %s\n", summary)
	}
	if failedN > 0 && failed != nil {
		fmt.Fprintf(stderr, "hms-send: the %d lines not confirmed are in %s\n", failedN, c.String("failed"))
	}
	switch {
	case writeErr != nil:
		return cmdutil.Fatalf("--failed %s: %v", c.String("failed"), writeErr)
	case runErr != nil:
		return amqpcli.Fatal(runErr)
	case rerr != nil:
		return cmdutil.Fatalf("reading stdin: %v", rerr)
	case ctx.Err() != nil:
		lastLine = max(lastLine, p.Stats.LastLine.Load())
		return cmdutil.Stopped(ctx, "the input after line %d was not read", lastLine).
			WithHint(fmt.Sprintf("resume with: tail -n +%d INPUT | hms-send ...", lastLine+1))
	case notAll:
		return cmdutil.Partial
	}
	return nil
}
