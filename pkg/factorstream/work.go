package factorstream

import (
	"context"
	"math/big"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hms-toolkit/hms/pkg/factor"
)

// piece is what a worker hands the writer, in input order: output lines,
// the diagnostics of the tokens among them, and then perhaps a number that
// needs a search (task), whose line the writer waits for.
type piece struct {
	buf     []byte
	numbers int64 // lines in buf
	errs    []tokenError
	task    *task
}

// task is a number above 2^64 that trial division did not finish. Any
// worker takes it from the queue, so that the hard numbers of one chunk
// are factored in parallel; the writer waits for it in its place.
type task struct {
	line    int
	midLine bool   // numbers come before it on its line
	key     []byte // the number in decimal
	n       *big.Int
	done    chan struct{} // closed when primes or err is set

	claimed atomic.Bool // someone runs (or ran) the search
	primes  []*big.Int
	err     error
	elapsed time.Duration
}

// inlineDivisors: a number above 2^64 with at most this many divisors has
// its line made by the worker; one with more is listed by the writer as
// the divisors are generated, in bounded memory.
const inlineDivisors = 1 << 12

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, flushSize+4096); return &b }}

func getBuf() []byte { return (*bufPool.Get().(*[]byte))[:0] }
func putBuf(b []byte) {
	if cap(b) <= 4*flushSize { // let the rare multi-megabyte line buffer go
		bufPool.Put(&b)
	}
}

// worker takes tasks first (they hold up the output), then chunks, until
// there are neither.
func (s *stream) worker() {
	defer s.workers.Done()
	f := &formatter{format: s.opt.Format}
	chunks := s.chunks
	for {
		select {
		case t, ok := <-s.tasks:
			if !ok {
				return
			}
			s.runTask(t)
			continue
		default:
		}
		select {
		case t, ok := <-s.tasks:
			if !ok {
				return
			}
			s.runTask(t)
		case c, ok := <-chunks:
			if !ok {
				chunks = nil // no more: only tasks are left
				continue
			}
			s.processChunk(c, f)
			s.chunkDone()
		case <-s.done:
			return
		}
	}
}

// runTask factors t.n, within the deadline if there is one, unless
// someone else has taken it on.
func (s *stream) runTask(t *task) {
	if !t.claimed.CompareAndSwap(false, true) {
		return
	}
	ctx := s.work
	if s.opt.Deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.opt.Deadline)
		defer cancel()
	}
	if s.opt.taskStarted != nil {
		s.opt.taskStarted(t)
	}
	start := time.Now()
	t.primes, t.err = factor.Factor(ctx, t.n)
	t.elapsed = time.Since(start)
	close(t.done)
}

// queue hands t to any worker; when the queue is full this one does it.
func (s *stream) queue(t *task) {
	select {
	case s.tasks <- t:
	default:
		s.runTask(t)
	}
}

// send hands p to the writer; when too much output waits for it, send
// waits until the writer has taken enough. When every worker waits so,
// the writer may be waiting for a task that none of them will take: it is
// told (allBlocked), and takes the task on itself. send reports false when
// the run is over.
func (s *stream) send(c *chunk, p piece) bool {
	if !c.out.put(p) {
		return true
	}
	if s.blocked.Add(1) == s.nworkers {
		poke(s.allBlocked)
	}
	defer s.blocked.Add(-1)
	for c.out.full() {
		select {
		case <-c.out.room:
		case <-s.done:
			return false
		}
	}
	return true
}

// processChunk factors the tokens of c and sends the output on c.out.
func (s *stream) processChunk(c *chunk, f *formatter) {
	defer c.out.close()
	p := piece{buf: getBuf()}
	if c.longTok > 0 {
		st := tokNotInteger
		if allDigits(c.data) {
			st = tokTooLarge
		}
		p.errs = append(p.errs, tokenError{c.line, string(c.data), st, c.longTok, true})
		s.send(c, p)
		return
	}
	data, line, firstTok := c.data, c.line, !c.midLine
	for i := 0; i < len(data); {
		ch := data[i]
		if isSpace(ch) {
			if ch == '\n' {
				line++
				firstTok = true
			}
			i++
			continue
		}
		j := i + 1
		for j < len(data) && !isSpace(data[j]) {
			j++
		}
		tok := data[i:j]
		i = j
		if firstTok && s.opt.DropKey && j < len(data) && data[j] == '\t' {
			firstTok = false
			continue
		}
		mid := !firstTok
		firstTok = false
		if !s.factorToken(c, f, &p, tok, line, mid) {
			return
		}
	}
	s.send(c, p)
}

// factorToken adds the line of one token to p (or its diagnostic, or a
// task), sending p on when it is full. It reports false when the run is
// over.
func (s *stream) factorToken(c *chunk, f *formatter, p *piece, tok []byte, line int, mid bool) bool {
	n, st := parseToken(tok)
	switch {
	case st != tokOK:
		t := tok[:min(len(tok), 64)]
		p.errs = append(p.errs, tokenError{line, string(t), st, len(tok), false})
		return true
	case n.big == nil:
		p.buf = f.appendLine64(p.buf, n.small, tok)
		p.numbers++
	default:
		key := tok
		if !canonical(tok) {
			key = n.big.Append(nil, 10)
		}
		primes, quick := factor.Quick(n.big)
		if quick && (f.format == Factor || fewDivisors(primes)) {
			p.buf, _ = f.appendBig(p.buf, key, n.big, primes, nil)
			p.numbers++
			break
		}
		t := &task{line: line, midLine: mid, key: append([]byte(nil), key...), n: n.big, done: make(chan struct{})}
		if quick { // factored, but the list is long: the writer makes it
			t.primes = primes
			t.claimed.Store(true)
			close(t.done)
		}
		// Hand over the lines before it first: they need not wait.
		p.task = t
		if !s.send(c, *p) {
			return false
		}
		*p = piece{buf: getBuf()}
		if !quick {
			s.queue(t)
		}
		return true
	}
	if len(p.buf) >= flushSize {
		if !s.send(c, *p) {
			return false
		}
		*p = piece{buf: getBuf()}
	}
	return true
}

func fewDivisors(primes []*big.Int) bool {
	n, ok := factor.CountDivisors(primes)
	return ok && n <= inlineDivisors
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// tokenError is a token that is no number hms-factors takes.
type tokenError struct {
	line    int
	tok     string // its first 64 bytes
	status  tokenStatus
	length  int
	atLeast bool // length is a lower bound: the token was not read to its end
}

func (e tokenError) message() string {
	q := strconv.Quote(e.tok)
	if e.length > len(e.tok) {
		more := ""
		if e.atLeast {
			more = "+"
		}
		q = strconv.Quote(e.tok+"…") + " (" + strconv.Itoa(e.length) + more + " characters)"
	}
	if e.status == tokTooLarge {
		return q + " is too large (hms-factors handles numbers of up to " + strconv.Itoa(factor.MaxDigits) + " digits)"
	}
	return q + " is not a positive integer"
}
