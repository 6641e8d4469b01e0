// Package factorstream is the order-preserving parallel pipeline of
// hms-factors: it cuts a stream of whitespace-separated numbers into chunks
// of whole tokens, factors them on several workers, and writes one line per
// number in input order, each as soon as the lines before it are written.
// Numbers that need a long search are queued apart, so that any worker
// takes them, and the writer waits for each in its place. At most a window
// of chunks is in flight, so memory stays flat on endless input. It also
// holds the output formats and the Hadoop-style reducer (Reduce).
package factorstream

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hms-toolkit/hms/pkg/clilog"
	"github.com/hms-toolkit/hms/pkg/factor"
)

// Options configures Run.
type Options struct {
	Format  Format
	Workers int // <= 0 means 1; at most 256 are used
	// DropKey drops the first token of each line when a TAB follows it
	// directly: Hadoop's NLineInputFormat hands mappers "offset<TAB>line".
	DropKey bool
	// SkipInvalid suppresses the per-token messages (they are still counted).
	SkipInvalid bool
	// Name prefixes diagnostics ("hms-factors"); Unit names the position in
	// them ("line", or "argument" when the input is the command line).
	Name, Unit string
	// Progress, if set, receives a rate line about once a second when it
	// is a terminal.
	Progress io.Writer
	// FirstLine is the number of the first line in diagnostics (<= 0: 1),
	// for input that continues an earlier Run.
	FirstLine int
	// Deadline, if positive, is how long the search for the factors of one
	// number may take: a number not done by then is reported ("gave up
	// after …"), counted in Stats.Failed, and left out of the output.
	Deadline time.Duration
	// Work is the context the searches run under (nil: one that is never
	// done). When it is done, the numbers in flight are given up and the
	// run stops at the first of them, as when ctx is done.
	Work context.Context
	// StatusEvery, if positive: while the output waits on one number or
	// chunk for that long, a Hadoop Streaming status line
	// ("reporter:status:…") goes to the diagnostics, and again every
	// StatusEvery, so that Hadoop sees a task at work.
	StatusEvery time.Duration

	statusTicks <-chan time.Time // tests: status ticks of their own
	taskStarted func(*task)      // tests: called as a worker starts a search
}

// Stats counts what Run saw.
type Stats struct {
	Numbers int64 // numbers written
	Invalid int64 // tokens rejected
	Failed  int64 // numbers not written: given up at the deadline, or too many divisors to list
	// Stopped reports that ctx (or Options.Work) was done before all the
	// input was handled: everything before ResumeLine was written, nothing
	// from it on (ResumeMidLine: some numbers of that line were written).
	Stopped       bool
	ResumeLine    int
	ResumeMidLine bool
}

const (
	readSize  = 64 << 10 // bytes per read, and so roughly per chunk
	flushSize = 64 << 10 // a worker hands over its output buffer past this
	maxToken  = 1 << 20  // a token longer than this is rejected unseen
)

// stream is one Run: the reader, the workers and the writer.
type stream struct {
	opt  Options
	ctx  context.Context // done: stop taking input
	work context.Context // done: give up the searches in flight

	order   chan *chunk   // chunks in input order, for the writer
	chunks  chan *chunk   // the same chunks, for the workers
	tasks   chan *task    // numbers that need a search
	done    chan struct{} // closed when the writer is finished
	stop    context.CancelFunc
	open    atomic.Int64 // chunks not yet processed, +1 while reading
	workers sync.WaitGroup
	readErr error

	nworkers   int32
	blocked    atomic.Int32  // workers waiting for the writer to take a piece
	allBlocked chan struct{} // poked when all of them are

	w       *bufio.Writer
	errw    io.Writer
	f       formatter
	stats   Stats
	written atomic.Int64 // for the progress line
	ticks   <-chan time.Time
	quiet   time.Duration // a wait shorter than this gives no status line
	resume  struct {
		line int
		mid  bool
	}
}

// Run factors every number in r and writes one line per number to w, in
// input order; diagnostics go to errw. When ctx is done it stops reading,
// finishes the chunks already read (under Options.Work), and reports where
// it stopped in Stats. It returns the first write error (the caller decides
// what a broken pipe means) or read error.
func Run(ctx context.Context, r io.Reader, w, errw io.Writer, opt Options) (Stats, error) {
	s := newStream(ctx, w, errw, opt)
	go s.read(r)
	s.workers.Add(int(s.nworkers))
	for range s.nworkers {
		go s.worker()
	}
	stopProgress := clilog.Progress(opt.Progress, time.Second, s.written.Load, "numbers", func() string {
		return fmt.Sprintf("%s: %d numbers", s.opt.Name, s.written.Load())
	})
	err := s.write()
	stopProgress()
	close(s.done)
	s.stop() // give up the searches still running
	s.workers.Wait()
	if err != nil {
		return s.stats, err
	}
	if s.stats.Stopped {
		return s.stats, nil // the reader may be blocked: don't wait for it
	}
	return s.stats, s.readErr
}

func newStream(ctx context.Context, w, errw io.Writer, opt Options) *stream {
	if opt.Name == "" {
		opt.Name = "hms-factors"
	}
	if opt.Unit == "" {
		opt.Unit = "line"
	}
	work := opt.Work
	if work == nil {
		work = context.WithoutCancel(ctx)
	}
	work, stop := context.WithCancel(work)
	workers := min(max(opt.Workers, 1), 256)
	window := 2*workers + 2 // more workers than this only costs memory
	s := &stream{
		opt: opt, ctx: ctx, work: work, stop: stop,
		order:  make(chan *chunk, window),
		chunks: make(chan *chunk, window),
		tasks:  make(chan *task, 4*workers),
		done:   make(chan struct{}),
		w:      bufio.NewWriterSize(w, flushSize),
		errw:   errw,
		f:      formatter{format: opt.Format},

		nworkers:   int32(workers),
		allBlocked: make(chan struct{}, 1),
	}
	s.resume.line = max(opt.FirstLine, 1)
	s.ticks = opt.statusTicks
	if s.ticks == nil && opt.StatusEvery > 0 {
		// A tick left over from before a wait must not count as one
		// during it: only a wait of half the interval or more reports.
		s.ticks, s.quiet = time.Tick(opt.StatusEvery), opt.StatusEvery/2
	}
	return s
}

// read runs the reader, then closes the chunk queues.
func (s *stream) read(r io.Reader) {
	s.open.Add(1)
	rd := &reader{r: r, line: max(s.opt.FirstLine, 1), emit: s.emit}
	s.readErr = rd.run()
	close(s.order)
	close(s.chunks)
	s.chunkDone()
}

// chunkDone counts one chunk processed (or the reading over): once all
// are, no more tasks can come, and the workers may go when the last is
// done.
func (s *stream) chunkDone() {
	if s.open.Add(-1) == 0 {
		close(s.tasks)
	}
}

// emit queues c for the writer and the workers; it reports false when no
// more input is wanted (stopped, or the writer is finished).
func (s *stream) emit(c *chunk) bool {
	if s.ctx.Err() != nil {
		return false
	}
	c.out = newOutbox()
	select {
	case s.order <- c:
	case <-s.done:
		return false
	}
	s.open.Add(1)
	select {
	case s.chunks <- c: // never blocks for long: the workers take chunks in order
		return true
	case <-s.done:
		return false
	}
}

// write writes the chunks in order until the input ends or the run stops.
func (s *stream) write() error {
	for {
		c, ok, err := s.nextChunk()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if err := s.writeChunk(c); err != nil {
			return err
		}
		if s.stats.Stopped {
			break
		}
		s.resume.line, s.resume.mid = c.endLine, c.endMid
	}
	if s.stats.Stopped {
		s.stats.ResumeLine, s.stats.ResumeMidLine = s.resume.line, s.resume.mid
	}
	return s.w.Flush()
}

// nextChunk returns the next chunk read; once ctx is done, only one that
// is already there (the input after it is not read).
func (s *stream) nextChunk() (*chunk, bool, error) {
	select {
	case c, ok := <-s.order:
		return c, ok, nil
	default:
	}
	if err := s.w.Flush(); err != nil { // show what there is before waiting
		return nil, false, err
	}
	select {
	case c, ok := <-s.order:
		return c, ok, nil
	case <-s.ctx.Done():
		select {
		case c, ok := <-s.order:
			return c, ok, nil
		default:
			s.stats.Stopped = true
			return nil, false, nil
		}
	}
}

// writeChunk writes the pieces of c as they come.
func (s *stream) writeChunk(c *chunk) error {
	for {
		p, got, end := c.out.take()
		switch {
		case end:
			return nil
		case !got:
			_, _, err := await(s, c.out.ready, nil, func() string { return fmt.Sprintf("%s %d and on", s.opt.Unit, c.line) })
			if err != nil {
				return err
			}
			continue
		}
		if err := s.writePiece(p); err != nil || s.stats.Stopped {
			return err
		}
	}
}

func (s *stream) writePiece(p piece) error {
	_, err := s.w.Write(p.buf)
	putBuf(p.buf)
	if err != nil {
		return err
	}
	s.stats.Numbers += p.numbers
	s.stats.Invalid += int64(len(p.errs))
	s.written.Store(s.stats.Numbers)
	if !s.opt.SkipInvalid && len(p.errs) > 0 {
		// Keep stdout and stderr in step for a reader of both.
		if err := s.w.Flush(); err != nil {
			return err
		}
		for _, e := range p.errs {
			fmt.Fprintf(s.errw, "%s: %s %d: %s\n", s.opt.Name, s.opt.Unit, e.line, e.message())
		}
	}
	if p.task == nil {
		return nil
	}
	return s.writeTask(p.task)
}

// writeTask waits for t and writes its line, or says why there is none.
func (s *stream) writeTask(t *task) error {
	_, _, err := await(s, t.done, t, func() string {
		return fmt.Sprintf("%s %d: factoring %s", s.opt.Unit, t.line, describe(t.key))
	})
	if err != nil {
		return err
	}
	switch {
	case t.err != nil && s.work.Err() != nil:
		s.stats.Stopped = true
		s.resume.line, s.resume.mid = t.line, t.midLine
		return nil
	case t.err != nil:
		return s.fail(t, "gave up on %s after %v", describe(t.key), s.opt.Deadline)
	case s.f.format != Factor:
		if _, ok := factor.CountDivisors(t.primes); !ok {
			return s.fail(t, "%s has more than %d divisors, too many to list (the factor format prints its prime factors)",
				describe(t.key), uint64(factor.MaxListedDivisors))
		}
	}
	spill := func(b []byte) ([]byte, error) {
		_, err := s.w.Write(b)
		return b[:0], err
	}
	buf, err := s.f.appendBig(getBuf(), t.key, t.n, t.primes, spill)
	if err == nil {
		_, err = spill(buf)
	}
	putBuf(buf)
	s.stats.Numbers++
	s.written.Store(s.stats.Numbers)
	return err
}

func (s *stream) fail(t *task, format string, args ...any) error {
	s.stats.Failed++
	if err := s.w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(s.errw, "%s: %s %d: %s\n", s.opt.Name, s.opt.Unit, t.line, fmt.Sprintf(format, args...))
	return nil
}

// await receives from ch, first writing out the output so far when it
// would wait. While it waits, a status line naming what() goes out on
// every status tick, so that Hadoop sees the task alive. When ch is the end
// of task t and every worker waits for the writer, the writer runs t (if
// no worker has started it): none of them would.
func await[T any](s *stream, ch <-chan T, t *task, what func() string) (T, bool, error) {
	select {
	case v, ok := <-ch:
		return v, ok, nil
	default:
	}
	if err := s.w.Flush(); err != nil {
		var zero T
		return zero, false, err
	}
	start := time.Now()
	for {
		select {
		case v, ok := <-ch:
			return v, ok, nil
		case <-s.allBlocked:
			if t != nil && s.blocked.Load() == s.nworkers {
				s.runTask(t)
			}
		case <-s.ticks:
			if time.Since(start) < s.quiet {
				continue
			}
			fmt.Fprintf(s.errw, "reporter:status:%s: %s, %v so far\n", s.opt.Name, what(), time.Since(start).Round(time.Second))
		}
	}
}

// describe names a number in a message: in full, or its first and last
// digits and its length when it is long.
func describe(key []byte) string {
	if len(key) <= 40 {
		return string(key)
	}
	return fmt.Sprintf("%s…%s (%d digits)", key[:20], key[len(key)-6:], len(key))
}
