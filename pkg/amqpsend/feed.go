package amqpsend

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"
)

// Feed is a stream of lines to publish, one message each: what hms-send
// does with its stdin.
type Feed struct {
	In      io.Reader
	MaxSize int // longest line in bytes; <= 0: MaxSize
	// RunID prefixes the message-id of every line that is not an hms
	// envelope: RUNID-LINE. "" means a random one of 12 hex digits.
	RunID string
	// Failed, when set, receives each line that was not confirmed (refused,
	// unroutable, or not sent because the run gave up or was stopped), so
	// that publishing it again finishes the job. When the run gives up on
	// the broker, the unread rest of In goes there too.
	Failed io.Writer
	// BadLine reports a line that is not sent because it is too long; nil
	// logs it. Empty lines are skipped and counted, not reported.
	BadLine func(*LineError)
	Log     *slog.Logger
}

// FeedStats counts what a feed did with its lines, besides the publisher's
// Stats; safe to read while the feed runs.
type FeedStats struct {
	Rejected atomic.Int64 // longer than the limit, not sent
	Skipped  atomic.Int64 // empty
	Unsent   atomic.Int64 // read but never published (the run stopped or gave up)
	NotSent  atomic.Int64 // failed with ErrNotSent: published and not confirmed, or never published
	EOF      atomic.Bool  // the input was read to its end
}

// Result is what a feed did, and why it ended.
type Result struct {
	Read, Confirmed, Failed, Rejected, Skipped int64
	Republished, Reconnects                    int64
	Elapsed                                    time.Duration
	// InputDone: In was read to its end.
	InputDone bool
	// Stopped: ctx ended the run before every line of In had been
	// published and settled (confirmed, or failed for a reason of its own).
	Stopped bool
	// LastRead is the last line taken from In: every line up to it was
	// confirmed, reported, or failed (and written to Failed); the lines
	// after it were not read.
	LastRead int64
	// FirstNotSent is the first line that failed because the run stopped
	// or gave up (ErrNotSent); 0 if none did.
	FirstNotSent int64
	PublishErr   error // the run gave up on the broker
	ReadErr      error // reading In
	FailedErr    error // writing Failed
}

// Summary is the one line that says what happened.
func (r *Result) Summary() string {
	return fmt.Sprintf("read %d lines, confirmed %d, failed %d, rejected %d, skipped %d empty; %d republished after %d reconnects, %.0f msg/s",
		r.Read, r.Confirmed, r.Failed, r.Rejected, r.Skipped, r.Republished, r.Reconnects, float64(r.Confirmed)/r.Elapsed.Seconds())
}

// AllHandled reports whether every line was confirmed (or skipped empty),
// and nothing went wrong.
func (r *Result) AllHandled() bool {
	return r.Failed == 0 && r.Rejected == 0 && !r.Stopped && r.PublishErr == nil && r.ReadErr == nil && r.FailedErr == nil
}

// Publish publishes the lines of f.In. The first cancellation of ctx (a
// signal) stops reading; what is in flight then is finished under work,
// which should outlive ctx by a grace period (cmdutil.WorkContext); once
// work is done too, every line not confirmed fails. A feed whose input had
// been read to its end and whose lines were all settled when ctx ended is
// not Stopped: it had handled everything. stats, when not nil, is kept up
// to date during the run.
func (p *Publisher) Publish(ctx, work context.Context, f Feed, stats *FeedStats) *Result {
	if stats == nil {
		stats = &FeedStats{}
	}
	r := &feedRun{p: p, f: f, st: stats, res: &Result{}}
	if r.f.Log == nil {
		r.f.Log = p.cfg.Log
	}
	if f.Failed != nil {
		r.failed = bufio.NewWriter(f.Failed)
	}
	start := time.Now()
	r.run(ctx, work)
	if r.failed != nil {
		if err := r.failed.Flush(); err != nil && r.res.FailedErr == nil {
			r.res.FailedErr = err
		}
	}
	res := r.res
	res.Elapsed = time.Since(start)
	res.Rejected, res.Skipped = stats.Rejected.Load(), stats.Skipped.Load()
	res.Read = p.Stats.Read.Load() + stats.Unsent.Load() + res.Rejected + res.Skipped
	res.Confirmed = p.Stats.Confirmed.Load()
	res.Republished, res.Reconnects = p.Stats.Republished.Load(), p.Stats.Reconnects.Load()
	res.LastRead = max(res.LastRead, p.Stats.LastLine.Load())
	res.Stopped = ctx.Err() != nil && !(res.InputDone && stats.NotSent.Load() == 0)
	return res
}

// feedRun is one Publish: a reader goroutine, a forwarder that stops
// handing lines to the publisher at the first cancellation, and the
// publisher's Run.
type feedRun struct {
	p      *Publisher
	f      Feed
	st     *FeedStats
	res    *Result
	failed *bufio.Writer
}

func (r *feedRun) run(ctx, work context.Context) {
	runID := r.f.RunID
	if runID == "" {
		var b [6]byte
		rand.Read(b[:])
		runID = hex.EncodeToString(b[:])
	}
	lines := make(chan Message, 4096)
	readErr := make(chan error, 1)
	go func() {
		err := ReadLines(r.f.In, r.f.MaxSize, runID+"-", lines, r.badLine, ctx.Done())
		r.st.EOF.Store(err == nil)
		readErr <- err
	}()
	pub := make(chan Message)
	held := make(chan Message, 1) // a line the forwarder took but could not hand over
	runDone, fwdDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(fwdDone)
		forward(lines, pub, held, ctx.Done(), runDone)
	}()
	runErr := r.p.Run(work, pub, r.fail)
	close(runDone)
	<-fwdDone
	select {
	case m := <-held:
		r.unsent(m)
	default:
	}
	switch {
	case ctx.Err() != nil || work.Err() != nil:
		// Stopped: what was read and not published goes to Failed; the
		// reader may be blocked on its input, so don't wait for it.
		select {
		case err := <-readErr:
			r.readEnded(err)
		default:
		}
		r.drain(lines)
	case runErr != nil:
		r.res.PublishErr = runErr
		if r.failed == nil {
			return // exit now, even if the input never ends
		}
		// Gave up: the rest of the input goes to Failed, for a rerun.
		for m := range lines {
			r.unsent(m)
		}
		r.readEnded(<-readErr)
	default:
		r.readEnded(<-readErr)
	}
}

// readEnded takes the reader's result.
func (r *feedRun) readEnded(err error) {
	switch {
	case err == nil:
		r.res.InputDone = true
	case !errors.Is(err, errStopped):
		r.res.ReadErr = err
	}
}

// forward hands the lines from in to out until in is closed, stop is
// closed (a signal: the lines still in in are not taken) or the publisher
// is gone (runDone). A line taken but not handed over goes to held. out is
// closed on return.
func forward(in <-chan Message, out chan<- Message, held chan<- Message, stop, runDone <-chan struct{}) {
	defer close(out)
	for {
		select {
		case m, ok := <-in:
			if !ok {
				return
			}
			select {
			case out <- m:
			case <-stop:
				held <- m
				return
			case <-runDone:
				held <- m
				return
			}
		case <-stop:
			return
		case <-runDone:
			return
		}
	}
}

// drain takes the lines already read and not published, without waiting.
func (r *feedRun) drain(lines <-chan Message) {
	for {
		select {
		case m, ok := <-lines:
			if !ok {
				return
			}
			r.unsent(m)
		default:
			return
		}
	}
}

func (r *feedRun) unsent(m Message) {
	r.st.Unsent.Add(1)
	r.res.LastRead = max(r.res.LastRead, m.Line)
	r.fail(m, ErrNotSent)
}

// fail is the publisher's fail callback, and takes the lines never
// published: it counts them, reports those that failed for a reason of
// their own, and writes them to Failed.
func (r *feedRun) fail(m Message, err error) {
	r.res.Failed++
	if errors.Is(err, ErrNotSent) {
		r.st.NotSent.Add(1)
		if r.res.FirstNotSent == 0 || m.Line < r.res.FirstNotSent {
			r.res.FirstNotSent = m.Line
		}
	} else {
		r.f.Log.Error(fmt.Sprintf("line %d: %v", m.Line, err), "message_id", m.MessageID)
	}
	if r.failed != nil && r.res.FailedErr == nil {
		r.failed.Write(m.Body)
		r.res.FailedErr = r.failed.WriteByte('\n')
	}
}

// badLine runs on the reader's goroutine.
func (r *feedRun) badLine(e *LineError) {
	if errors.Is(e, ErrEmpty) {
		r.st.Skipped.Add(1)
		return
	}
	r.st.Rejected.Add(1)
	if r.f.BadLine != nil {
		r.f.BadLine(e)
		return
	}
	r.f.Log.Error(e.Error())
}
