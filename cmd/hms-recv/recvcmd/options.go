package recvcmd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/hms-toolkit/hms/pkg/amqpcli"
	"github.com/hms-toolkit/hms/pkg/amqprecv"
	"github.com/hms-toolkit/hms/pkg/cmdutil"
)

// execFlags are the flags that only --exec uses.
var execFlags = []string{"batch", "batch-wait", "reject-codes", "backoff", "exec-timeout"}

// options checks the flags and says what they ask for.
func options(c *cli.Context, log *slog.Logger) (*setup, error) {
	if c.NArg() > 0 {
		return nil, cmdutil.Fatalf("unexpected argument %q", c.Args().First()).WithHint("quote the command: --exec 'CMD ARGS'")
	}
	q := c.String("queue")
	if q == "" {
		return nil, cmdutil.Fatalf("no queue: give --queue Q").WithHint("see 'hms-recv --help'")
	}
	if err := amqpcli.CheckQueue(c, q); err != nil {
		return nil, err
	}
	if err := amqpcli.CheckDurations(c, "idle-timeout", "batch-wait", "backoff", "exec-timeout", "stop-grace"); err != nil {
		return nil, err
	}
	s := &setup{opt: amqprecv.Options{Count: c.Int64("count"), Drain: c.Bool("drain"), IdleTimeout: c.Duration("idle-timeout"),
		Reason: func(err error) string {
			if errors.Is(err, amqprecv.ErrNewline) {
				return err.Error() + " (use --format json to receive such messages)"
			}
			return err.Error()
		}}}
	switch c.String("format") {
	case "lines":
	case "json":
		s.opt.JSON = true
	default:
		return nil, cmdutil.Fatalf("--format %q: want lines or json", c.String("format"))
	}
	if s.opt.Count < 0 {
		return nil, cmdutil.Fatalf("--count %d: want a positive number", s.opt.Count)
	}
	if !c.Bool("verify") && c.IsSet("keyring") && os.Getenv("HMS_KEYRING") == "" {
		return nil, cmdutil.Fatalf("--keyring needs --verify")
	}
	if c.Bool("verify") {
		check, err := verifier(c)
		if err != nil {
			return nil, err
		}
		s.opt.Check = check
	}
	prefetch := c.Int("prefetch")
	if prefetch < 1 || prefetch > amqprecv.MaxPrefetch {
		return nil, cmdutil.Fatalf("--prefetch %d: want 1 to %d", prefetch, amqprecv.MaxPrefetch)
	}
	if err := execOptions(c, s, log); err != nil {
		return nil, err
	}
	if s.exec != nil {
		prefetch = max(prefetch, s.exec.Batch)
	} else if s.opt.Count > 0 && s.opt.Count < int64(prefetch) {
		prefetch = int(s.opt.Count) // don't take messages only to hand them back
	}
	conn, err := amqpcli.Conn(c)
	if err != nil {
		return nil, err
	}
	s.cfg = amqprecv.Config{Conn: conn, Queue: amqpcli.Queue(c, q), Prefetch: prefetch, RetryFor: c.Duration("retry-for"), Log: log}
	return s, nil
}

// execOptions sets s.exec from --exec and its flags.
func execOptions(c *cli.Context, s *setup, log *slog.Logger) error {
	cmd := c.String("exec")
	if cmd == "" {
		for _, f := range execFlags {
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
	if list := c.String("reject-codes"); list != "" {
		for _, f := range strings.Split(list, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 || n > 255 {
				return cmdutil.Fatalf("--reject-codes: %q is not an exit status (1-255)", f)
			}
			reject[n] = true
		}
	}
	if cmd == "" {
		return nil
	}
	s.exec = &amqprecv.ExecOptions{
		Options: s.opt, Command: cmd, Batch: c.Int("batch"), BatchWait: c.Duration("batch-wait"),
		RejectCodes: reject, BackoffMin: c.Duration("backoff"), Timeout: c.Duration("exec-timeout"),
		Stdout: c.App.Writer, Stderr: c.App.ErrWriter,
		Name: "--exec command",
		Stopping: func() {
			log.Warn(fmt.Sprintf("stopping: the --exec command has %v to finish (--stop-grace); a second signal ends it now", c.Duration("stop-grace")))
		},
		RejectReason: func(status int) string {
			return fmt.Sprintf("--exec command exited %d (a --reject-codes status)", status)
		},
	}
	return nil
}

// exitError turns how the consumer ended into hms-recv's error.
func exitError(ctx context.Context, err error, st *amqprecv.Stats) error {
	var killed *amqprecv.KilledError
	var failing *amqprecv.FailingError
	var cmdErr *amqprecv.CommandError
	switch {
	case cmdutil.IsBrokenPipe(err):
		return err
	case errors.As(err, &killed):
		return cmdutil.Stopped(ctx, "the --exec command was still running (%v): its process group was killed, and its batch of %d %s is back in the queue",
			killed.Cause, killed.Requeued, cmdutil.Plural(killed.Requeued, "message"))
	case errors.As(err, &failing):
		return &cmdutil.Error{Code: cmdutil.ExitSomeFailed, Err: fmt.Errorf("--drain: %w", failing),
			Hint: "the --exec command's output says why; --reject-codes dead-letters a batch by exit status, and a --quorum queue's --delivery-limit bounds the tries"}
	case errors.As(err, &cmdErr):
		return cmdutil.Fatalf("--exec: %v", cmdErr.Err)
	case err != nil:
		return amqpcli.Fatal(err)
	case ctx.Err() != nil:
		return cmdutil.Stopped(ctx, "the messages not yet handled stay in the queue")
	case st.DeadLettered.Load() > 0:
		return cmdutil.Partial
	}
	return nil
}
