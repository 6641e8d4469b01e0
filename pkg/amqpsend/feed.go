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

	"github.com/hms-toolkit/hms/pkg/amqpconn"
	"github.com/hms-toolkit/hms/pkg/lines"
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
	EOF      atomic.Bool  // every line of the input was taken: its end was read
}

// Result is what a feed did, and why it ended.
type Result struct {
	Read, Confirmed, Failed, Rejected, Skipped int64
	Republished, Reconnects                    int64
	Elapsed                                    time.Duration
	Blocked                                    time.Duration // by the broker (flow control)
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
	return fmt.Sprintf("read %d lines, confirmed %d, failed %d, rejected %d, skipped %d empty; %d republished after %d reconnects, %.0f msg/s%s",
		r.Read, r.Confirmed, r.Failed, r.Rejected, r.Skipped, r.Republished, r.Reconnects, float64(r.Confirmed)/r.Elapsed.Seconds(),
		amqpconn.BlockedSummary(r.Blocked))
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
	res.Blocked = p.Stats.Blocked()
	res.LastRead = max(res.LastRead, p.Stats.LastLine.Load())
	res.InputDone = stats.EOF.Load()
	res.Stopped = ctx.Err() != nil && !(res.InputDone && stats.NotSent.Load() == 0)
	return res
}

// feedRun is one Publish: a lines.Feed reads the input in the background,
// a forwarder hands its lines to the publisher's Run until the first
// cancellation, and Run publishes them.
type feedRun struct {
	p        *Publisher
	f        Feed
	st       *FeedStats
	res      *Result
	failed   *bufio.Writer
	idPrefix string
	held     *Message // a line the forwarder took but could not hand over
}

// queueBytes bounds the lines read ahead of the publisher.
const queueBytes = 1 << 20

func (r *feedRun) run(ctx, work context.Context) {
	runID := r.f.RunID
	if runID == "" {
		var b [6]byte
		rand.Read(b[:])
		runID = hex.EncodeToString(b[:])
	}
	r.idPrefix = runID + "-"
	maxSize := r.f.MaxSize
	if maxSize <= 0 {
		maxSize = MaxSize
	}
	in := lines.NewFeed(lines.NewReader(r.f.In, maxSize), queueBytes)
	defer in.Close() // a read still blocked on the input ends with the process
	pub := make(chan Message)
	runDone, fwdDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(fwdDone)
		r.forward(ctx, in, pub, runDone)
	}()
	runErr := r.p.Run(work, pub, r.fail)
	close(runDone)
	<-fwdDone
	if r.held != nil {
		r.unsent(*r.held)
	}
	switch {
	case ctx.Err() != nil || work.Err() != nil:
		// Stopped: what was read and not published goes to Failed, without
		// waiting for more input.
		stopped, cancel := context.WithCancel(context.Background())
		cancel()
		r.rest(stopped, in)
	case runErr != nil:
		r.res.PublishErr = runErr
		if r.failed != nil {
			// Gave up: the rest of the input goes to Failed, for a rerun.
			r.rest(context.Background(), in)
		}
		// Else exit now, even if the input never ends.
	}
}

// forward hands the lines of in to out as messages until the end of the
// input, ctx is done (a signal: the lines still queued in in are not
// taken) or the publisher is gone (runDone). A line taken but not handed
// over is held. out is closed on return.
func (r *feedRun) forward(ctx context.Context, in *lines.Feed, out chan<- Message, runDone <-chan struct{}) {
	defer close(out)
	for {
		m, ok := r.next(ctx, in)
		if !ok {
			return
		}
		select {
		case out <- m:
		case <-ctx.Done():
			r.held = &m
			return
		case <-runDone:
			r.held = &m
			return
		}
	}
}

// next returns the next line of in to publish, waiting until ctx is done;
// ok is false at the end of the input (then EOF or ReadErr is set) or when
// ctx is done. Lines that are not sent are reported on the way.
func (r *feedRun) next(ctx context.Context, in *lines.Feed) (m Message, ok bool) {
	for {
		l, err := in.Next(ctx)
		switch {
		case err == io.EOF:
			r.st.EOF.Store(true)
			return m, false
		case err != nil:
			if ctx.Err() == nil && !errors.Is(err, lines.ErrClosed) {
				r.res.ReadErr = err
			}
			return m, false
		}
		m, lerr := LineMessage(l, r.idPrefix)
		if lerr == nil {
			return m, true
		}
		r.badLine(lerr)
	}
}

// rest takes the lines read and never published, until the end of the
// input or until ctx is done, and fails them as not sent.
func (r *feedRun) rest(ctx context.Context, in *lines.Feed) {
	for {
		m, ok := r.next(ctx, in)
		if !ok {
			return
		}
		r.unsent(m)
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

// badLine reports a line that is not sent.
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
