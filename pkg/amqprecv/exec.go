package amqprecv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/hms-toolkit/hms/pkg/backoff"
)

// ExecOptions configure ToCommand.
type ExecOptions struct {
	Options
	Command     string        // run with sh -c, in a process group of its own
	Batch       int           // messages per run; <= 0: 1
	BatchWait   time.Duration // how long to wait to fill a batch
	RejectCodes map[int]bool  // exit statuses that dead-letter the batch
	BackoffMin  time.Duration // first wait after a failed run; 0: 1s
	BackoffMax  time.Duration // longest wait; 0: 1m
	// Timeout, when > 0, bounds a run: a command still running after it
	// is killed (see KillDelay) and its batch requeued, as for a failure.
	Timeout time.Duration
	// KillDelay is how long the command's process group has between
	// SIGTERM and SIGKILL; 0: DefaultKillDelay.
	KillDelay time.Duration
	Stdout    io.Writer // the command's stdout and stderr
	Stderr    io.Writer
	// Name names the command in log messages ("" is "the command"), and
	// RejectReason gives the reason a batch is dead-lettered with after a
	// RejectCodes status (nil: "NAME exited N, a status that rejects"):
	// the caller knows how its user calls them.
	Name         string
	RejectReason func(status int) string
	// OnRun, when set, is told how each run ended and how long it took.
	OnRun func(took time.Duration, outcome Outcome)
	// Stopping, when set, is called when ctx ends while the command runs:
	// it may say that the command is given time to finish.
	Stopping func()
}

// Outcome says how a run of the command ended.
type Outcome string

const (
	RunSucceeded Outcome = "success" // exit 0: the batch was acked
	RunRejected  Outcome = "reject"  // a RejectCodes status: dead-lettered
	RunFailed    Outcome = "failure" // any other status: requeued
	RunTimedOut  Outcome = "timeout" // killed after Timeout: requeued
	RunStopped   Outcome = "stopped" // killed when work ended: requeued
)

// DefaultKillDelay is how long a command gets between SIGTERM and SIGKILL.
const DefaultKillDelay = 2 * time.Second

// DrainGiveUp is how many failed runs on messages that had all failed
// before end a drain; see ToCommand.
const DrainGiveUp = 3

// KilledError is ToCommand's error when work ended while the command ran:
// its process group was killed and its batch requeued.
type KilledError struct {
	Cause    error // why work ended (its context's cause)
	Requeued int   // messages in the batch
}

func (e *KilledError) Error() string {
	return fmt.Sprintf("the command was still running when %v: it was killed and its batch of %d messages requeued", e.Cause, e.Requeued)
}

// CommandError is ToCommand's error when the command could not be run
// (sh missing, command not found) or its output went away (SIGPIPE, which
// Err wraps as syscall.EPIPE): no later batch can do better. Its batch was
// requeued.
type CommandError struct{ Err error }

func (e *CommandError) Error() string { return e.Err.Error() }
func (e *CommandError) Unwrap() error { return e.Err }

// FailingError ends a drain in which nothing but failing messages is left.
type FailingError struct {
	FailedRuns int // runs that failed since the last one that settled its batch
	RepeatRuns int // of those, runs whose messages had all failed before
	Messages   int // distinct messages that failed and are back in the queue
}

func (e *FailingError) Error() string {
	messages, are := "messages", "are"
	if e.Messages == 1 {
		messages, are = "message", "is"
	}
	return fmt.Sprintf("only failing messages are left: the last %d runs failed, %d of them on messages that had all failed before; the %d %s that failed %s back in the queue",
		e.FailedRuns, e.RepeatRuns, e.Messages, messages, are)
}

// ToCommand runs Command with batches of messages on its stdin, one line
// each. Exit status 0 acks the batch; a status in RejectCodes dead-letters
// it; any other failure, or a run longer than Timeout, requeues it and
// waits (growing backoff) before the next batch.
//
// Stopping: once ctx is done no batch is started, and a batch being
// gathered goes back to the queue. A running command goes on until it ends
// (its batch is then settled) or work is done: then its process group gets
// SIGTERM, and SIGKILL KillDelay later, its batch is requeued, and the
// error is a *KilledError. work should outlive ctx by a grace period
// (cmdutil.WorkContext).
//
// With Drain, ToCommand also stops when nothing but failing messages is
// left, with a *FailingError: when DrainGiveUp runs have failed on
// batches whose messages had all failed before in this run, and no run
// settled its batch (acked or dead-lettered it) since. A message is known
// by its message-id and body. A failure of messages never seen before
// does not count, so every message gets tried; a transient failure is
// retried (with backoff) DrainGiveUp times before the drain gives up.
func (c *Consumer) ToCommand(ctx, work context.Context, opt ExecOptions) error {
	l := newExecLoop(c, opt)
	for !l.s.done() {
		stop, err := l.gather(ctx)
		if stop || err != nil {
			return err
		}
		if len(l.batch) == 0 {
			continue
		}
		if err := l.run(ctx, work); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
	}
	return nil
}

// execLoop is the state of one ToCommand.
type execLoop struct {
	c        *Consumer
	opt      ExecOptions
	s        *stopper
	failWait backoff.Backoff
	failing  *failing // nil unless draining
	batch    []*Delivery
	input    bytes.Buffer
}

func newExecLoop(c *Consumer, opt ExecOptions) *execLoop {
	if opt.Batch <= 0 {
		opt.Batch = 1
	}
	if opt.Stdout == nil {
		opt.Stdout = os.Stdout
	}
	if opt.Stderr == nil {
		opt.Stderr = os.Stderr
	}
	if opt.KillDelay <= 0 {
		opt.KillDelay = DefaultKillDelay
	}
	if opt.Name == "" {
		opt.Name = "the command"
	}
	l := &execLoop{c: c, opt: opt, s: &stopper{c: c, opt: opt.Options},
		failWait: backoff.Backoff{Min: opt.BackoffMin, Max: opt.BackoffMax}}
	if l.failWait.Min <= 0 {
		l.failWait.Min = time.Second
	}
	if l.failWait.Max <= 0 {
		l.failWait.Max = time.Minute
	}
	if opt.Drain {
		l.failing = &failing{failed: map[messageKey]struct{}{}}
		l.s.returning = l.failing.returning
	}
	return l
}

// gather fills the batch: its first message waits as long as the stop
// conditions allow (stop: one was met), the others until BatchWait after
// the first. On an error the messages gathered go back to the queue.
func (l *execLoop) gather(ctx context.Context) (stop bool, err error) {
	l.batch, l.input = l.batch[:0], bytes.Buffer{}
	want := l.opt.Batch
	if l.opt.Count > 0 {
		want = int(min(int64(want), l.opt.Count-l.s.handled))
	}
	var deadline time.Time
	for len(l.batch) < want {
		var d *Delivery
		if len(l.batch) == 0 {
			d, err = l.c.Next(ctx, 0)
			if d == nil && err == nil {
				d, err = l.s.wait(ctx)
				if d == nil && err == nil {
					return true, nil
				}
			}
		} else if d, err = l.more(ctx, deadline); d == nil && err == nil {
			break // the batch is complete
		}
		if err != nil {
			if len(l.batch) > 0 {
				l.c.Requeue(l.batch[len(l.batch)-1], true, len(l.batch))
			}
			if ctx.Err() != nil {
				return true, nil
			}
			return true, err
		}
		l.failing.delivered(d)
		if len(l.batch) > 0 && d.gen != l.batch[0].gen {
			// Reconnected while gathering: the broker took the first
			// part back already.
			l.batch, l.input = l.batch[:0], bytes.Buffer{}
		}
		line, ok, err := l.c.lineFor(d, l.opt.Options)
		if err != nil {
			return true, err
		}
		if !ok {
			continue // dead-lettered
		}
		if len(l.batch) == 0 {
			deadline = time.Now().Add(l.opt.BatchWait)
		}
		l.batch = append(l.batch, d)
		l.input.Write(line)
		l.input.WriteByte('\n')
	}
	return false, nil
}

// more waits for another message of the batch until deadline; nil when
// none comes in time (or, draining, when there is no more).
func (l *execLoop) more(ctx context.Context, deadline time.Time) (*Delivery, error) {
	left := time.Until(deadline)
	if left <= 0 {
		return nil, nil
	}
	d, err := l.c.Next(ctx, 0)
	if d != nil || err != nil {
		return d, err
	}
	if l.opt.Drain {
		if empty, _ := l.c.Drained(); empty {
			left = min(left, drainGrace)
		}
	}
	return l.c.Next(ctx, left)
}

// run runs the command with the batch and settles it by how the run ended.
func (l *execLoop) run(ctx, work context.Context) error {
	n, last := len(l.batch), l.batch[len(l.batch)-1]
	if l.opt.OnBatch != nil {
		l.opt.OnBatch(n)
	}
	res := runCommand(ctx, work, &l.opt, &l.input)
	outcome := RunFailed
	defer func() {
		if l.opt.OnRun != nil && res.err == nil {
			l.opt.OnRun(res.took, outcome)
		}
	}()
	switch {
	case res.err != nil:
		l.c.Requeue(last, true, n)
		return &CommandError{res.err}
	case res.stopped:
		outcome = RunStopped
		l.c.Requeue(last, true, n)
		return &KilledError{Cause: context.Cause(work), Requeued: n}
	case res.timedOut:
		outcome = RunTimedOut
		return l.failed(ctx, res)
	case res.status == 126 || res.status == 127:
		// The shell could not run the command: a typo, not a transient failure.
		l.c.Requeue(last, true, n)
		return &CommandError{fmt.Errorf("sh exited %d: the command was not found or is not executable", res.status)}
	case res.status == 128+int(syscall.SIGPIPE):
		// The command's stdout (ours) was closed by its reader: no later
		// batch can do better. Hand the batch back and stop.
		l.c.Requeue(last, true, n)
		return &CommandError{fmt.Errorf("the command died of SIGPIPE: %w", syscall.EPIPE)}
	case res.status == 0:
		outcome = RunSucceeded
		if err := l.c.Ack(last, true, n); err != nil {
			l.c.cfg.Log.Warn("handled batch will be delivered again: the connection was lost before its ack", "count", n)
		}
		l.s.handled += int64(n)
	case l.opt.RejectCodes[res.status]:
		outcome = RunRejected
		if err := l.reject(res.status); err != nil {
			return err
		}
	default:
		return l.failed(ctx, res)
	}
	l.failWait.Reset()
	l.failing.settled(l.batch)
	return nil
}

// reject dead-letters the batch after a RejectCodes status.
func (l *execLoop) reject(status int) error {
	reason := fmt.Sprintf("%s exited %d, a status that rejects", l.opt.Name, status)
	if l.opt.RejectReason != nil {
		reason = l.opt.RejectReason(status)
	}
	for _, d := range l.batch {
		if err := l.c.DeadLetter(d, reason); err != nil && !errors.Is(err, ErrStale) {
			return err
		}
	}
	return nil
}

// failed requeues the batch of a failed run and waits before the next
// one, unless the drain gives up.
func (l *execLoop) failed(ctx context.Context, res runResult) error {
	n := len(l.batch)
	l.c.Requeue(l.batch[n-1], true, n)
	giveUp := l.failing.failedRun(l.batch)
	var wait time.Duration
	if !giveUp {
		wait = l.failWait.Next()
	}
	if res.timedOut {
		l.c.cfg.Log.Warn(l.opt.Name+" ran too long: killed; batch requeued", "after", l.opt.Timeout, "count", n, "retry_in", wait)
	} else {
		l.c.cfg.Log.Warn(l.opt.Name+" failed; batch requeued", "status", res.status, "count", n, "retry_in", wait)
	}
	if giveUp {
		return l.failing.err()
	}
	backoff.Sleep(ctx, wait) // a signal ends the wait; ToCommand then stops
	return nil
}
