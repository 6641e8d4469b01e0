package store

import (
	"sync/atomic"
	"time"
)

// A Meter shows how a Load is doing while it runs, for a progress line: it
// may be read from any goroutine.
type Meter struct {
	read, written atomic.Int64
	since         atomic.Int64 // start of the write in flight (Unix ns), 0: none
}

// Read is the number of lines read (blank lines not counted).
func (m *Meter) Read() int64 { return m.read.Load() }

// Written is the number of lines stored: inserted, updated or already
// present.
func (m *Meter) Written() int64 { return m.written.Load() }

// Waiting is how long the write in flight has been waiting for the server
// (0 when none is).
func (m *Meter) Waiting() time.Duration {
	if t := m.since.Load(); t != 0 {
		return time.Since(time.Unix(0, t))
	}
	return 0
}

// SlowWrite is a write that waited long for the server.
type SlowWrite struct {
	First, Last int64         // the lines it writes are among these
	Docs        int           // how many documents
	Kind        string        // "insert", "update" (records that exist) or "upsert"
	Waited      time.Duration // so far, or in all when Done
	Done        bool
}

// watchSlow tells opt.OnSlowWrite of the write of documents idx of b, begun
// at start, once it has waited opt.SlowWrite; the returned func, called
// when the write is done after took, tells of it again if it was slow.
func (l *loader) watchSlow(b *batch, idx []int, kind string, start time.Time) (done func(took time.Duration)) {
	if l.opt.OnSlowWrite == nil || len(idx) == 0 {
		return func(time.Duration) {}
	}
	w := SlowWrite{First: b.lines[idx[0]], Last: b.lines[idx[0]], Docs: len(idx), Kind: kind}
	for _, i := range idx {
		w.First, w.Last = min(w.First, b.lines[i]), max(w.Last, b.lines[i])
	}
	t := time.AfterFunc(l.opt.SlowWrite, func() {
		n := w
		n.Waited = time.Since(start)
		l.opt.OnSlowWrite(n)
	})
	return func(took time.Duration) {
		if !t.Stop() {
			w.Waited, w.Done = took, true
			l.opt.OnSlowWrite(w)
		}
	}
}
