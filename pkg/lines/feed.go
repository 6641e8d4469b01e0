package lines

import (
	"context"
	"errors"
	"sync"
)

// A Feed reads lines from a Reader in a goroutine of its own and queues
// them, so that whoever takes them can stop waiting at any moment — at a
// signal, say — even while a read of the input blocks on a terminal or on
// a pipe that never ends. Close stops the reading: the goroutine ends at
// its next line (or stays blocked in that read until the process exits).
//
// A Feed holds at most about limit bytes of lines not yet taken, plus the
// line being read.
type Feed struct {
	r     *Reader
	limit int
	ready chan struct{} // a value when lines, the end or Close can be seen

	mu     sync.Mutex
	room   *sync.Cond // the queue was taken, or Close came
	queue  queued
	spare  queued
	end    error // io.EOF or the read error, once reading ended
	closed bool

	pending []Line // for Next: lines taken and not yet returned
}

// Line is a line taken from a Feed.
type Line struct {
	Text []byte // without "\n"; for a line too long, its kept prefix
	Num  int64  // 1-based line number
	Err  error  // a *TooLongError for a line too long, else nil
}

// ErrClosed is returned by Take and Next once the lines read before Close
// have been taken.
var ErrClosed = errors.New("stopped reading")

type queued struct {
	buf   []byte
	lines []Line // Text is set when taken; until then it is an offset in buf
	offs  []int
}

// NewFeed starts reading lines from r; limit is about the most bytes of
// lines it queues.
func NewFeed(r *Reader, limit int) *Feed {
	f := &Feed{r: r, limit: max(limit, 1), ready: make(chan struct{}, 1)}
	f.room = sync.NewCond(&f.mu)
	go f.read()
	return f
}

func (f *Feed) read() {
	for {
		text, err := f.r.Next()
		var tl *TooLongError
		if errors.As(err, &tl) {
			text = tl.Prefix
		} else if err != nil {
			f.mu.Lock()
			f.end = err
			f.mu.Unlock()
			f.signal()
			return
		}
		if !f.push(text, f.r.Line(), err) {
			return
		}
	}
}

// push queues a line, waiting for room; it reports false after Close.
func (f *Feed) push(text []byte, num int64, err error) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for !f.closed && len(f.queue.lines) > 0 && len(f.queue.buf)+len(text) > f.limit {
		f.room.Wait()
	}
	if f.closed {
		return false
	}
	f.queue.offs = append(f.queue.offs, len(f.queue.buf))
	f.queue.buf = append(f.queue.buf, text...)
	f.queue.lines = append(f.queue.lines, Line{Num: num, Err: err})
	if len(f.queue.lines) == 1 {
		f.signal()
	}
	return true
}

func (f *Feed) signal() {
	select {
	case f.ready <- struct{}{}:
	default:
	}
}

// Ready returns a channel that has a value when Take has something to
// return: lines, the end of the input or ErrClosed.
func (f *Feed) Ready() <-chan struct{} { return f.ready }

// Take returns the lines queued now, in order, possibly none. Once every
// line read has been taken it returns the end: io.EOF, the read error, or
// ErrClosed after Close. The lines are valid until the next call of Take
// or Next.
func (f *Feed) Take() ([]Line, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.queue.lines) == 0 {
		switch {
		case f.end != nil:
			return nil, f.end
		case f.closed:
			return nil, ErrClosed
		}
		return nil, nil
	}
	f.queue, f.spare = f.spare, f.queue
	f.queue.buf, f.queue.lines, f.queue.offs = f.queue.buf[:0], f.queue.lines[:0], f.queue.offs[:0]
	f.room.Signal()
	got := f.spare
	for i := range got.lines {
		end := len(got.buf)
		if i+1 < len(got.offs) {
			end = got.offs[i+1]
		}
		got.lines[i].Text = got.buf[got.offs[i]:end:end]
	}
	if f.end != nil || f.closed {
		f.signal() // the end is next
	}
	return got.lines, nil
}

// Next returns the next line, waiting for it until ctx is done (then it
// returns ctx's error). At the end it returns what Take does. The line is
// valid until the next call of Next or Take.
func (f *Feed) Next(ctx context.Context) (Line, error) {
	for len(f.pending) == 0 {
		lines, err := f.Take()
		if err != nil {
			return Line{}, err
		}
		if len(lines) > 0 {
			f.pending = lines
			break
		}
		select {
		case <-f.ready:
		case <-ctx.Done():
			return Line{}, ctx.Err()
		}
	}
	l := f.pending[0]
	f.pending = f.pending[1:]
	return l, nil
}

// Close stops reading: lines already queued can still be taken, then Take
// returns ErrClosed (or the end of the input, if it came first). It does
// not wait for a read in progress.
func (f *Feed) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	f.room.Broadcast()
	f.signal()
}
