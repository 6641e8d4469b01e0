package amqpconn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hms-toolkit/hms/pkg/backoff"
)

// ErrGaveUp is wrapped by the error of a Dialer that could not connect to
// any node within its RetryFor (or was interrupted while it tried).
var ErrGaveUp = errors.New("gave up reconnecting")

// Stats is what a Dialer counts about its connections; safe to read while
// it runs. The Stats of hms-send and hms-recv embed it.
type Stats struct {
	Reconnects atomic.Int64 // connections made after the first one

	nodes     atomic.Pointer[[]string] // the nodes' URLs, redacted
	node      atomic.Int64             // 1 + index of the node connected to; 0: none
	blocked   atomic.Int64             // nanoseconds blocked, blocks that ended
	blockedAt atomic.Int64             // Unix nanoseconds the current block began; 0: none
	reason    atomic.Pointer[string]   // the broker's reason for the current block
}

// Node returns the index in Config.URLs of the node connected to, and its
// URL with the password hidden; -1 and "" while not connected.
func (s *Stats) Node() (int, string) {
	i := int(s.node.Load()) - 1
	nodes := s.nodes.Load()
	if i < 0 || nodes == nil || i >= len(*nodes) {
		return -1, ""
	}
	return i, (*nodes)[i]
}

// Nodes returns the URLs of the nodes, passwords hidden, in
// Config.URLs order.
func (s *Stats) Nodes() []string {
	if nodes := s.nodes.Load(); nodes != nil {
		return *nodes
	}
	return nil
}

// Blocked returns how long the broker blocked publishing in all (flow
// control: a memory or disk alarm), the current block included.
func (s *Stats) Blocked() time.Duration {
	d := time.Duration(s.blocked.Load())
	if at := s.blockedAt.Load(); at != 0 {
		d += time.Since(time.Unix(0, at))
	}
	return d
}

// BlockedNow reports whether the broker blocks publishing now, since when,
// and why.
func (s *Stats) BlockedNow() (since time.Time, reason string, ok bool) {
	at := s.blockedAt.Load()
	if at == 0 {
		return time.Time{}, "", false
	}
	if r := s.reason.Load(); r != nil {
		reason = *r
	}
	return time.Unix(0, at), reason, true
}

// BlockedStatus is what a progress line adds while the broker blocks
// publishing: ", blocked by the broker for 12s (low on memory)", or "".
func (s *Stats) BlockedStatus() string {
	since, reason, ok := s.BlockedNow()
	if !ok {
		return ""
	}
	return fmt.Sprintf(", blocked by the broker for %s (%s)", time.Since(since).Round(time.Second), reason)
}

// BlockedSummary is what a summary adds when the broker blocked publishing
// for d in all: "; blocked 12.3s by the broker (flow control)", or "".
func BlockedSummary(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d < time.Second:
		d = d.Round(time.Millisecond)
	default:
		d = d.Round(100 * time.Millisecond)
	}
	return fmt.Sprintf("; blocked %s by the broker (flow control)", d)
}

func (s *Stats) blockStart(reason string) {
	s.reason.Store(&reason)
	s.blockedAt.Store(time.Now().UnixNano())
}

func (s *Stats) blockEnd() time.Duration {
	at := s.blockedAt.Swap(0)
	if at == 0 {
		return 0
	}
	d := time.Since(time.Unix(0, at))
	s.blocked.Add(int64(d))
	return d
}

// Dialer connects to one node of a cluster at a time. After a connection
// is lost it tries the next node first (in Config.URLs order, wrapping
// around), so a node that went away is tried again only after the others;
// when every node failed it waits (jittered backoff) before the next round,
// and gives up once RetryFor has passed since it began trying. Its methods
// are for one goroutine.
type Dialer struct {
	cfg      Config
	nodes    []string
	retryFor time.Duration
	log      *slog.Logger
	stats    *Stats
	next     int // the node to try first
	conns    int // connections made
}

// NewDialer returns a Dialer for the nodes of cfg that counts into stats.
// retryFor bounds each outage: 0 tries every node once.
func NewDialer(cfg Config, retryFor time.Duration, log *slog.Logger, stats *Stats) *Dialer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	nodes := cfg.Nodes()
	redacted := make([]string, len(nodes))
	for i, u := range nodes {
		redacted[i] = Redact(u)
	}
	stats.nodes.Store(&redacted)
	return &Dialer{cfg: cfg, nodes: nodes, retryFor: retryFor, log: log, stats: stats}
}

// Conn is a connection a Dialer made.
type Conn struct {
	*amqp.Connection
	Node int    // index of the node in Config.URLs
	URL  string // the node's URL, password hidden

	blocked chan bool
}

// Blocked delivers true when the broker starts blocking this connection's
// publishing (connection.blocked: a memory or disk alarm somewhere in the
// cluster) and false when it stops; a connection starts unblocked. Only
// the latest state is kept.
func (c *Conn) Blocked() <-chan bool { return c.blocked }

// Connect connects to the next node and runs setup on the new connection
// (declaring queues, opening channels). A node whose connection or setup
// fails is closed and the next one tried. Errors that retrying cannot fix
// (*Permanent) end Connect at once, except a node's own connection error
// when other nodes remain to be tried. ctx ends the waits between rounds.
func (d *Dialer) Connect(ctx context.Context, setup func(*amqp.Connection) error) (*Conn, error) {
	d.stats.node.Store(0)
	deadline := time.Now().Add(d.retryFor)
	var b backoff.Backoff
	errs := make([]error, len(d.nodes))
	for round := 0; ; round++ {
		allPermanent := true // every node refused us for good: stop
		for k := range d.nodes {
			i := d.next
			d.next = (i + 1) % len(d.nodes)
			timeout := d.cfg.timeout()
			if round > 0 {
				timeout = max(min(timeout, time.Until(deadline)), time.Second)
			}
			c, err := d.open(i, timeout, setup)
			if err == nil {
				return c, nil
			}
			var ne *nodeError
			if !errors.As(err, &ne) {
				if IsPermanent(err) {
					return nil, err // the same on every node of a cluster
				}
				if len(d.nodes) > 1 {
					err = fmt.Errorf("%s: %w", Redact(d.nodes[i]), err)
				}
			}
			errs[i] = unwrapNode(err)
			allPermanent = allPermanent && IsPermanent(err)
			if k < len(d.nodes)-1 {
				// The error starts with the node's URL.
				d.log.Warn("cannot connect, trying the next node", "err", errs[i])
			}
		}
		last := errs[(d.next+len(d.nodes)-1)%len(d.nodes)]
		if allPermanent {
			return nil, last
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, fmt.Errorf("%w after %s: %w", ErrGaveUp, d.retryFor, joinErrors(errs))
		}
		wait := min(b.Next(), left)
		msg := "cannot connect, retrying"
		if len(d.nodes) > 1 {
			msg = fmt.Sprintf("cannot connect to any of the %d nodes, retrying", len(d.nodes))
		}
		d.log.Warn(msg, "err", last, "in", wait, "giving_up_in", left)
		if err := backoff.Sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("%w: interrupted: %w", ErrGaveUp, last)
		}
	}
}

// open connects to node i and sets the connection up.
func (d *Dialer) open(i int, timeout time.Duration, setup func(*amqp.Connection) error) (*Conn, error) {
	conn, err := d.cfg.dial(d.nodes[i], timeout)
	if err != nil {
		return nil, &nodeError{err}
	}
	c := &Conn{Connection: conn, Node: i, URL: Redact(d.nodes[i]), blocked: make(chan bool, 1)}
	// Registered before setup: a block must not be missed.
	blocks := conn.NotifyBlocked(make(chan amqp.Blocking, 4))
	if err := setup(conn); err != nil {
		conn.CloseDeadline(time.Now().Add(CloseTimeout))
		return nil, err
	}
	go d.watchBlocked(c, blocks)
	d.conns++
	if d.conns > 1 {
		d.stats.Reconnects.Add(1)
	}
	d.stats.node.Store(int64(i + 1))
	d.log.Info("connected", "node", c.URL)
	return c, nil
}

// watchBlocked follows the broker's flow control of c until c closes: it
// says once when a block begins (with the broker's reason) and when it
// ends, counts the time blocked, and passes the state on to c.Blocked.
func (d *Dialer) watchBlocked(c *Conn, blocks <-chan amqp.Blocking) {
	blocked := false
	for b := range blocks {
		if b.Active == blocked {
			continue
		}
		blocked = b.Active
		if blocked {
			d.stats.blockStart(b.Reason)
			d.log.Warn("the broker blocks publishing (flow control); waiting", "reason", b.Reason, "node", c.URL)
		} else {
			d.log.Info("the broker accepts publishing again", "after", d.stats.blockEnd(), "node", c.URL)
		}
		select { // keep only the latest state
		case <-c.blocked:
		default:
		}
		c.blocked <- blocked
	}
	if blocked { // closed while blocked: the next connection starts afresh
		d.stats.blockEnd()
	}
}

// nodeError marks an error of connecting to one node, as opposed to one
// of setting the connection up.
type nodeError struct{ err error }

func (e *nodeError) Error() string { return e.err.Error() }
func (e *nodeError) Unwrap() error { return e.err }

func unwrapNode(err error) error {
	var ne *nodeError
	if errors.As(err, &ne) {
		return ne.err
	}
	return err
}

// joinErrors is the last error of each node, in one line.
func joinErrors(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	j := &joined{errs: errs}
	msgs := make([]string, len(errs))
	for i, err := range errs {
		msgs[i] = err.Error()
	}
	j.msg = strings.Join(msgs, "; ")
	return j
}

type joined struct {
	msg  string
	errs []error
}

func (e *joined) Error() string   { return e.msg }
func (e *joined) Unwrap() []error { return e.errs }

// CloseTimeout bounds the wait for the broker's close-ok: a half-dead
// connection must not hold up reconnecting or exiting.
const CloseTimeout = 5 * time.Second
