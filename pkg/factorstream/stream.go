// Package factorstream is the order-preserving parallel pipeline of
// hms-factors: it cuts a stream of whitespace-separated numbers into chunks
// of whole tokens, factors the chunks on several workers, and writes each
// chunk's lines in input order, with a bounded number of chunks in flight
// so that memory stays flat on endless input. It also holds the output
// formats and the Hadoop-style reducer (Reduce).
package factorstream

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
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
	// Progress, if set, receives a rate line about once a second.
	Progress io.Writer
	// FirstLine is the number of the first line in diagnostics (<= 0: 1),
	// for input that continues an earlier Run.
	FirstLine int
}

// Stats counts what Run saw.
type Stats struct {
	Numbers int64 // numbers factored
	Invalid int64 // tokens rejected
}

const (
	readSize  = 64 << 10 // bytes per read, and so roughly per chunk
	flushSize = 64 << 10 // a worker hands over its output buffer past this
	maxToken  = 1 << 20  // a token longer than this is rejected unseen
	outDepth  = 2        // output buffers queued per chunk
)

// chunk is a run of whole tokens and, once a worker is done, its output.
type chunk struct {
	data    []byte
	line    int  // line number of data[0]
	midLine bool // a token came before data[0] on its line
	longTok int  // > 0: data is the start of a token of at least longTok bytes

	out     chan []byte // output buffers, in order; closed when done
	errs    []tokenError
	numbers int64
	invalid int64
}

type tokenError struct {
	line   int
	tok    string
	status tokenStatus
	length int
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, flushSize+4096); return &b }}

func getBuf() []byte { return (*bufPool.Get().(*[]byte))[:0] }
func putBuf(b []byte) {
	if cap(b) <= 4*flushSize { // let the rare multi-megabyte line buffer go
		bufPool.Put(&b)
	}
}

// Run factors every number in r and writes one line per number to w, in
// input order; diagnostics go to errw. It returns the first write error
// (the caller decides what a broken pipe means) or read error.
func Run(r io.Reader, w, errw io.Writer, opt Options) (Stats, error) {
	// More workers than this only costs memory (the window is 2N+2 chunks).
	workers := min(max(opt.Workers, 1), 256)
	if opt.Name == "" {
		opt.Name = "hms-factors"
	}
	if opt.Unit == "" {
		opt.Unit = "line"
	}
	window := 2*workers + 2
	order := make(chan *chunk, window)
	work := make(chan *chunk, window)
	done := make(chan struct{})
	var readErr error

	go func() {
		readErr = readChunks(r, max(opt.FirstLine, 1), order, work, done)
		close(order)
		close(work)
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := &formatter{format: opt.Format}
			for c := range work {
				processChunk(c, f, opt.DropKey, done)
			}
		}()
	}

	var stats Stats
	var counted atomic.Int64
	stopProgress := startProgress(opt.Progress, &counted)
	bw := bufio.NewWriterSize(w, flushSize)
	err := func() error {
		for {
			var c *chunk
			var ok bool
			select {
			case c, ok = <-order:
			default:
				if err := bw.Flush(); err != nil {
					return err
				}
				c, ok = <-order
			}
			if !ok {
				break
			}
			for {
				var b []byte
				var ok bool
				select {
				case b, ok = <-c.out:
				default:
					// Nothing ready: show what we have (interactive use)
					// before waiting.
					if err := bw.Flush(); err != nil {
						return err
					}
					b, ok = <-c.out
				}
				if !ok {
					break
				}
				_, err := bw.Write(b)
				putBuf(b)
				if err != nil {
					return err
				}
			}
			stats.Numbers += c.numbers
			stats.Invalid += c.invalid
			counted.Store(stats.Numbers)
			if !opt.SkipInvalid && len(c.errs) > 0 {
				// Keep stdout and stderr in step for a reader of both.
				if err := bw.Flush(); err != nil {
					return err
				}
				for _, e := range c.errs {
					fmt.Fprintf(errw, "%s: %s %d: %s\n", opt.Name, opt.Unit, e.line, e.message())
				}
			}
		}
		return bw.Flush()
	}()
	stopProgress()
	if err != nil {
		close(done) // let the reader and workers go
		return stats, err
	}
	wg.Wait()
	return stats, readErr
}

func (e tokenError) message() string {
	q := strconv.Quote(e.tok)
	if e.length > len(e.tok) {
		q = strconv.Quote(e.tok+"…") + " (" + strconv.Itoa(e.length) + "+ characters)"
	}
	if e.status == tokTooLarge {
		return q + " is too large (hms-factors handles 1 to 2^128-1)"
	}
	return q + " is not a positive integer"
}

// readChunks cuts r into chunks of whole tokens, preferring line ends,
// and queues each on order (for the writer) and work (for the workers).
func readChunks(r io.Reader, line int, order, work chan<- *chunk, done <-chan struct{}) error {
	midLine := false
	var pending []byte
	skipping := false // inside an overlong token, dropping bytes
	emit := func(c *chunk) bool {
		c.out = make(chan []byte, outDepth)
		select {
		case order <- c:
		case <-done:
			return false
		}
		work <- c // never blocks longer than order did: same capacity
		return true
	}
	for {
		if cap(pending)-len(pending) < readSize {
			nb := make([]byte, len(pending), len(pending)+readSize+readSize/2)
			copy(nb, pending)
			pending = nb
		}
		start := len(pending)
		n, err := r.Read(pending[start : start+readSize])
		pending = pending[:start+n]
		if skipping && n > 0 {
			i := bytes.IndexFunc(pending[start:], func(r rune) bool { return r < 0x80 && isSpace(byte(r)) })
			if i < 0 {
				pending = pending[:start]
			} else {
				pending = append(pending[:start], pending[start+i:]...)
				skipping = false
			}
		}
		if err != nil {
			if len(pending) > 0 && !emit(&chunk{data: pending, line: line, midLine: midLine}) {
				return nil
			}
			if err == io.EOF {
				return nil
			}
			return err
		}
		cut := bytes.LastIndexByte(pending, '\n') + 1
		if cut == 0 {
			cut = lastSpace(pending) + 1
		}
		if cut == 0 {
			if len(pending) > maxToken {
				// One token, too long to be a number: report its start.
				c := &chunk{data: pending[:64:64], line: line, midLine: midLine, longTok: len(pending)}
				if !emit(c) {
					return nil
				}
				pending = nil
				skipping = true
				midLine = true
			}
			continue
		}
		c := &chunk{data: pending[:cut:cut], line: line, midLine: midLine}
		line += bytes.Count(c.data, []byte{'\n'})
		midLine = tokenAfterNewline(c.data, midLine)
		if !emit(c) {
			return nil
		}
		rest := pending[cut:]
		pending = make([]byte, len(rest), len(rest)+readSize+readSize/2)
		copy(pending, rest)
	}
}

// tokenAfterNewline reports whether the line that b ends in has a token
// in it, given whether it had one before b (for --drop-key).
func tokenAfterNewline(b []byte, before bool) bool {
	i := bytes.LastIndexByte(b, '\n')
	if i >= 0 {
		before = false
	}
	for _, c := range b[i+1:] {
		if !isSpace(c) {
			return true
		}
	}
	return before
}

func lastSpace(b []byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if isSpace(b[i]) {
			return i
		}
	}
	return -1
}

// processChunk factors the tokens of c and sends its output on c.out.
func processChunk(c *chunk, f *formatter, dropKey bool, done <-chan struct{}) {
	defer close(c.out)
	send := func(b []byte) bool {
		select {
		case c.out <- b:
			return true
		case <-done:
			return false
		}
	}
	buf := getBuf()
	if c.longTok > 0 {
		st := tokNotInteger
		if allDigits(c.data) {
			st = tokTooLarge
		}
		c.errs = append(c.errs, tokenError{c.line, string(c.data), st, c.longTok})
		c.invalid++
		send(buf)
		return
	}
	data := c.data
	line := c.line
	firstTok := !c.midLine
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
		if firstTok && dropKey && j < len(data) && data[j] == '\t' {
			firstTok = false
			continue
		}
		firstTok = false
		n, st := ParseToken(tok)
		if st != tokOK {
			c.invalid++
			t := tok
			if len(t) > 64 {
				t = t[:64]
			}
			c.errs = append(c.errs, tokenError{line, string(t), st, len(tok)})
			continue
		}
		c.numbers++
		buf = f.appendLine(buf, n, tok)
		if len(buf) >= flushSize {
			if !send(buf) {
				return
			}
			buf = getBuf()
		}
	}
	send(buf)
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// startProgress prints the count and rate to w every second until the
// returned stop function is called.
func startProgress(w io.Writer, count *atomic.Int64) (stop func()) {
	if w == nil {
		return func() {}
	}
	quit := make(chan struct{})
	finished := make(chan struct{})
	begin := time.Now()
	report := func() {
		n := count.Load()
		secs := time.Since(begin).Seconds()
		fmt.Fprintf(w, "\r%d numbers, %.0f/s  ", n, float64(n)/max(secs, 1e-9))
	}
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				report()
			case <-quit:
				report()
				fmt.Fprintln(w)
				return
			}
		}
	}()
	return func() { close(quit); <-finished }
}
