package factorstream

import "sync"

// outLimit is how many bytes of a chunk's output may wait for the writer
// before its worker waits too: what keeps memory bounded when lines are
// long. Numbers handed to tasks take no room here, so a worker goes
// through a chunk of hard numbers without waiting, queueing them all.
const outLimit = 2 * flushSize

// outbox carries the pieces of one chunk from its worker to the writer,
// in order.
type outbox struct {
	mu     sync.Mutex
	pieces []piece
	head   int // pieces[head:] are waiting
	bytes  int // of their output
	closed bool
	ready  chan struct{} // poked when a piece comes or the box closes
	room   chan struct{} // poked when the writer takes a piece
}

func newOutbox() *outbox {
	return &outbox{ready: make(chan struct{}, 1), room: make(chan struct{}, 1)}
}

func poke(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// put adds p and reports whether the output waiting is over the limit.
func (o *outbox) put(p piece) (full bool) {
	o.mu.Lock()
	o.pieces = append(o.pieces, p)
	o.bytes += len(p.buf)
	full = o.bytes > outLimit
	o.mu.Unlock()
	poke(o.ready)
	return full
}

// full reports whether the output waiting is over the limit.
func (o *outbox) full() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.bytes > outLimit
}

func (o *outbox) close() {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
	poke(o.ready)
}

// take returns the next piece if there is one (got), or whether there will
// be no more (end).
func (o *outbox) take() (p piece, got, end bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.head == len(o.pieces) {
		return p, false, o.closed
	}
	p = o.pieces[o.head]
	o.pieces[o.head] = piece{}
	o.head++
	o.bytes -= len(p.buf)
	if o.head == len(o.pieces) { // all taken: reuse the array
		o.pieces, o.head = o.pieces[:0], 0
	}
	poke(o.room)
	return p, true, false
}
