// Package faultproxy is a TCP proxy for tests that breaks connections on
// purpose: it forwards to a target (a RabbitMQ broker, say) and cuts
// connections mid-stream, on demand or after a number of bytes, or stalls
// them (Stall), so that tests can check what a client does when its
// connection drops or its peer stops answering.
package faultproxy

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// Proxy forwards connections to a target address.
type Proxy struct {
	ln     net.Listener
	target string

	mu        sync.Mutex
	conns     map[*link]struct{}
	cutAfter  int64 // bytes (both ways) after which a connection is cut; 0: never
	cutsLeft  int   // how many more connections to cut that way
	maxAccept int64 // connections after this many are closed at once; 0: no limit
	wg        sync.WaitGroup

	accepted atomic.Int64
	cuts     atomic.Int64

	gate chan struct{} // while stalled: closed by Resume
	held atomic.Int64
}

type link struct {
	a, b net.Conn
	n    atomic.Int64
	once sync.Once
}

func (l *link) close() { l.once.Do(func() { l.a.Close(); l.b.Close() }) }

// Start listens on a free local port and forwards to target.
func Start(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, conns: map[*link]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Accepted is the number of connections accepted so far.
func (p *Proxy) Accepted() int64 { return p.accepted.Load() }

// Cuts is the number of connections cut so far.
func (p *Proxy) Cuts() int64 { return p.cuts.Load() }

// CutAfter makes the proxy cut each of the next times connections once
// bytes bytes have gone through it (both directions), counting from when it
// was accepted or, for connections already open, from now.
func (p *Proxy) CutAfter(bytes int64, times int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cutAfter, p.cutsLeft = bytes, times
	for l := range p.conns {
		l.n.Store(0)
	}
}

// RefuseAfter makes the proxy close at once every connection after the
// first n (counting from the start): a broker that went away for good.
func (p *Proxy) RefuseAfter(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.maxAccept = n
}

// CutAll closes every open connection and returns how many there were.
func (p *Proxy) CutAll() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for l := range p.conns {
		l.close()
		delete(p.conns, l)
		p.cuts.Add(1)
		n++
	}
	return n
}

// Stall holds every byte that arrives from now on, both ways, until
// Resume, while connections stay open: a peer that stopped answering (a
// stopped process, a network that drops packets).
func (p *Proxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gate == nil {
		p.gate = make(chan struct{})
		p.held.Store(0)
	}
}

// Resume forwards what Stall held, and all that comes after.
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gate != nil {
		close(p.gate)
		p.gate = nil
	}
}

// Held is the number of bytes that arrived since the last Stall.
func (p *Proxy) Held() int64 { return p.held.Load() }

// Close stops listening and closes every connection.
func (p *Proxy) Close() error {
	p.Resume()
	err := p.ln.Close()
	p.CutAll()
	p.wg.Wait()
	return err
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		n := p.accepted.Add(1)
		p.mu.Lock()
		refuse := p.maxAccept > 0 && n > p.maxAccept
		p.mu.Unlock()
		if refuse {
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		l := &link{a: c, b: up}
		p.mu.Lock()
		p.conns[l] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(l, c, up)
		go p.pipe(l, up, c)
	}
}

func (p *Proxy) pipe(l *link, dst, src net.Conn) {
	defer p.wg.Done()
	defer func() {
		l.close()
		p.mu.Lock()
		delete(p.conns, l)
		p.mu.Unlock()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			gate := p.gate
			p.mu.Unlock()
			if gate != nil {
				p.held.Add(int64(n))
				<-gate
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
			if p.shouldCut(l, int64(n)) {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				return
			}
			return
		}
	}
}

func (p *Proxy) shouldCut(l *link, n int64) bool {
	total := l.n.Add(n)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cutAfter <= 0 || p.cutsLeft <= 0 || total < p.cutAfter {
		return false
	}
	if _, open := p.conns[l]; !open {
		return true
	}
	p.cutsLeft--
	p.cuts.Add(1)
	delete(p.conns, l)
	l.close()
	return true
}
