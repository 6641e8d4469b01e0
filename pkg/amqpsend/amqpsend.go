// Package amqpsend publishes messages to RabbitMQ so that none is lost
// silently: persistent delivery, publisher confirms with a window of
// outstanding messages, mandatory routing (an unroutable message is an
// error, not a drop), and reconnection with backoff that publishes again,
// with the same message-id, every message the broker had not confirmed.
package amqpsend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hms-toolkit/hms/pkg/amqpconn"
	"github.com/hms-toolkit/hms/pkg/backoff"
)

// Message is one message to publish.
type Message struct {
	Line      int64 // position in the input, for messages (1-based)
	Body      []byte
	MessageID string
}

// Config says where and how to publish.
type Config struct {
	Conn amqpconn.Config
	// Queue, when its Name is set, is declared (or checked) on every
	// connection; messages then go to it through the default exchange
	// unless Exchange is set.
	Queue      amqpconn.Queue
	Exchange   string
	RoutingKey string

	Window      int // outstanding unconfirmed messages; <= 0: 512, at most MaxWindow
	ContentType string
	Headers     amqp.Table
	Transient   bool // delivery mode 1 instead of persistent (2)

	// RetryFor bounds how long a lost (or never established) connection
	// is retried before Run gives up; 0 means no retry.
	RetryFor time.Duration
	Log      *slog.Logger
}

// Stats counts what happened; safe to read while Run runs.
type Stats struct {
	Read        atomic.Int64 // messages taken from the input
	Published   atomic.Int64 // publish calls, re-publishing included
	Confirmed   atomic.Int64 // acked by the broker (and not returned)
	Failed      atomic.Int64 // reported through the fail callback
	Nacked      atomic.Int64 // refused by the broker (counted in Failed too)
	Returned    atomic.Int64 // unroutable (counted in Failed too)
	Republished atomic.Int64
	Reconnects  atomic.Int64
	LastLine    atomic.Int64 // Line of the last message taken from the input
	Connected   atomic.Bool  // a channel to the broker is open
}

// ErrGaveUp is wrapped by Run's error when the connection could not be
// (re-)established within RetryFor.
var ErrGaveUp = errors.New("gave up reconnecting")

// ErrNotSent wraps the error given to the fail callback for the messages
// Run could not get confirmed because it stopped (the error Run returns
// says why, once).
var ErrNotSent = errors.New("not confirmed")

type pending struct {
	m        Message
	tag      uint64
	returned string // reason, when the broker returned it (unroutable)
}

// Publisher publishes a stream of messages.
type Publisher struct {
	cfg   Config
	Stats Stats

	conn     *amqp.Connection
	ch       *amqp.Channel
	confirms chan amqp.Confirmation
	returns  chan amqp.Return
	closed   chan *amqp.Error
	tag      uint64
}

// MaxWindow is the largest Window: the confirm and return buffers are
// allocated for a whole window up front (about 280 bytes a message).
const MaxWindow = 65535

// New returns a Publisher; nothing is connected until Run.
func New(cfg Config) *Publisher {
	if cfg.Window <= 0 {
		cfg.Window = 512
	}
	cfg.Window = min(cfg.Window, MaxWindow)
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Exchange == "" && cfg.RoutingKey == "" {
		cfg.RoutingKey = cfg.Queue.Name
	}
	return &Publisher{cfg: cfg}
}

// Run publishes every message from in until in is closed, and returns once
// each published message is confirmed or failed. fail is called, from
// Run's goroutine, for each message that was not confirmed: unroutable,
// refused by the broker, or still unconfirmed when Run gave up (then with
// an error wrapping ErrNotSent). When Run gives up it returns the reason at
// once, without reading the rest of in: that is the caller's to decide.
// ctx cuts Run short: once it is done, Run gives up with ctx's cause. To
// stop gracefully, close in, and let ctx bound the wait for the confirms.
func (p *Publisher) Run(ctx context.Context, in <-chan Message, fail func(Message, error)) error {
	defer p.disconnect()
	var (
		inflight []pending // published, unconfirmed, in publish order
		retry    []Message // to publish again first
		inOpen   = true
	)
	giveUp := func(runErr error) error {
		err := fmt.Errorf("%w: %w", ErrNotSent, runErr)
		for _, q := range inflight {
			retry = append(retry, q.m)
		}
		for _, m := range retry {
			p.Stats.Failed.Add(1)
			fail(m, err)
		}
		return runErr
	}
	noProgress := 0 // connections lost in a row without a confirm
	lost := func(err error) {
		// Confirms the library still holds are good news: take them.
	drain:
		for {
			select {
			case c, ok := <-p.confirms:
				if !ok {
					break drain
				}
				if len(inflight) > 0 && inflight[0].tag == c.DeliveryTag {
					inflight = p.settle(inflight, c, fail)
				}
			default:
				break drain
			}
		}
		p.cfg.Log.Warn("connection lost", "err", err, "unconfirmed", len(inflight))
		p.disconnect()
		noProgress++
		ms := make([]Message, 0, len(inflight)+len(retry))
		for _, q := range inflight {
			ms = append(ms, q.m)
		}
		retry = append(ms, retry...)
		inflight = inflight[:0]
	}
	done := ctx.Done()
	for inOpen || len(inflight) > 0 || len(retry) > 0 {
		if p.ch == nil {
			if noProgress > 10 {
				// The broker keeps closing the channel on us (a message over
				// its max_message_size, a policy...): retrying won't help.
				return giveUp(fmt.Errorf("%w: the connection was lost %d times in a row without a single confirm", ErrGaveUp, noProgress))
			}
			if err := p.connect(ctx); err != nil {
				return giveUp(err)
			}
		}
		// Publish what must be published again before anything new.
		if len(retry) > 0 && len(inflight) < p.cfg.Window {
			m := retry[0]
			if err := p.publish(m); err != nil {
				lost(err)
				continue
			}
			retry = retry[1:]
			p.Stats.Republished.Add(1)
			inflight = append(inflight, pending{m: m, tag: p.tag})
			// Keep up with confirms without blocking.
			select {
			case c, ok := <-p.confirms:
				if !ok {
					lost(p.closeReason())
					continue
				}
				inflight = p.settle(inflight, c, fail)
			default:
			}
			continue
		}
		var src <-chan Message
		if inOpen && len(retry) == 0 && len(inflight) < p.cfg.Window {
			src = in
		}
		select {
		case m, ok := <-src:
			if !ok {
				inOpen = false
				continue
			}
			p.Stats.Read.Add(1)
			p.Stats.LastLine.Store(m.Line)
			if err := p.publish(m); err != nil {
				retry = append(retry, m)
				lost(err)
				continue
			}
			inflight = append(inflight, pending{m: m, tag: p.tag})
		case r, ok := <-p.returns:
			if !ok {
				p.returns = nil // shut down: the confirms channel says so too
				continue
			}
			markReturned(inflight, r)
		case c, ok := <-p.confirms:
			if !ok {
				lost(p.closeReason())
				continue
			}
			inflight = p.settle(inflight, c, fail)
			noProgress = 0
		case err := <-p.closed:
			if err == nil {
				err = amqp.ErrClosed
			}
			lost(err)
		case <-done:
			return giveUp(context.Cause(ctx))
		}
	}
	return nil
}

func (p *Publisher) settle(inflight []pending, c amqp.Confirmation, fail func(Message, error)) []pending {
	p.takeReturns(inflight)
	if len(inflight) == 0 || inflight[0].tag != c.DeliveryTag {
		// The library delivers confirms in tag order; anything else is a bug.
		panic(fmt.Sprintf("amqpsend: confirm for tag %d, expected %v", c.DeliveryTag, inflight))
	}
	q := inflight[0]
	inflight = inflight[1:]
	switch {
	case !c.Ack:
		p.Stats.Failed.Add(1)
		p.Stats.Nacked.Add(1)
		fail(q.m, errors.New("refused by the broker (nack): the queue may be full (x-overflow reject-publish) or unavailable"))
	case q.returned != "":
		p.Stats.Failed.Add(1)
		p.Stats.Returned.Add(1)
		fail(q.m, errors.New(q.returned))
	default:
		p.Stats.Confirmed.Add(1)
	}
	return inflight
}

// takeReturns marks the messages the broker returned so far. The library
// closes the channel on shutdown: then it is set to nil, never read again.
func (p *Publisher) takeReturns(inflight []pending) {
	for {
		select {
		case r, ok := <-p.returns:
			if !ok {
				p.returns = nil
				return
			}
			markReturned(inflight, r)
		default:
			return
		}
	}
}

func markReturned(inflight []pending, r amqp.Return) {
	for i := range inflight {
		if inflight[i].returned == "" && inflight[i].m.MessageID == r.MessageId {
			inflight[i].returned = fmt.Sprintf("unroutable: %s (%d) for exchange %q, routing key %q",
				r.ReplyText, r.ReplyCode, r.Exchange, r.RoutingKey)
			return
		}
	}
}

func (p *Publisher) publish(m Message) error {
	mode := amqp.Persistent
	if p.cfg.Transient {
		mode = amqp.Transient
	}
	err := p.ch.Publish(p.cfg.Exchange, p.cfg.RoutingKey, true, false, amqp.Publishing{
		Headers:      p.cfg.Headers,
		ContentType:  p.cfg.ContentType,
		DeliveryMode: mode,
		MessageId:    m.MessageID,
		Timestamp:    time.Now(),
		Body:         m.Body,
	})
	if err != nil {
		return err
	}
	p.tag++
	p.Stats.Published.Add(1)
	return nil
}

func (p *Publisher) closeReason() error {
	select {
	case err := <-p.closed:
		if err != nil {
			return err
		}
	default:
	}
	return amqp.ErrClosed
}

// connect (re)establishes connection and channel, retrying transient
// failures with backoff for up to RetryFor.
func (p *Publisher) connect(ctx context.Context) error {
	deadline := time.Now().Add(p.cfg.RetryFor)
	b := backoff.Backoff{}
	for attempt := 0; ; attempt++ {
		err := p.open()
		if err == nil {
			if attempt > 0 || p.Stats.Reconnects.Load() > 0 || p.Stats.Published.Load() > 0 {
				p.Stats.Reconnects.Add(1)
				p.cfg.Log.Info("connected again", "attempts", attempt+1)
			}
			return nil
		}
		p.disconnect()
		if amqpconn.IsPermanent(err) {
			return err
		}
		wait := b.Next()
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("%w after %s: %w", ErrGaveUp, p.cfg.RetryFor, err)
		}
		wait = min(wait, left)
		p.cfg.Log.Warn("cannot connect, retrying", "err", err, "in", wait, "giving_up_in", left)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w: interrupted: %w", ErrGaveUp, err)
		}
	}
}

func (p *Publisher) open() error {
	conn, err := amqpconn.Dial(p.cfg.Conn)
	if err != nil {
		return err
	}
	p.conn = conn
	if p.cfg.Queue.Name != "" {
		if _, err := amqpconn.Declare(conn, p.cfg.Queue); err != nil {
			return err
		}
	}
	if p.cfg.Exchange != "" {
		if err := amqpconn.CheckExchange(conn, p.cfg.Exchange); err != nil {
			return err
		}
	}
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	if err := ch.Confirm(false); err != nil {
		return err
	}
	// The confirm buffer holds a whole window so the library's reader
	// never waits on us (it drops notifications after 5s of waiting).
	p.confirms = ch.NotifyPublish(make(chan amqp.Confirmation, p.cfg.Window+1))
	// Returns are buffered too: the library hands a return over before it
	// processes the ack of the same message, so draining returns before
	// settling a confirm (takeReturns) sees every return that applies.
	p.returns = ch.NotifyReturn(make(chan amqp.Return, p.cfg.Window+1))
	blocked := conn.NotifyBlocked(make(chan amqp.Blocking, 4))
	log := p.cfg.Log
	go func() {
		for b := range blocked {
			if b.Active {
				log.Warn("the broker blocks publishing", "reason", b.Reason)
			} else {
				log.Info("the broker accepts publishing again")
			}
		}
	}()
	p.closed = ch.NotifyClose(make(chan *amqp.Error, 1))
	p.ch = ch
	p.tag = 0
	p.Stats.Connected.Store(true)
	return nil
}

func (p *Publisher) disconnect() {
	if p.conn != nil {
		p.conn.CloseDeadline(time.Now().Add(closeTimeout))
	}
	p.conn, p.ch = nil, nil
	p.confirms, p.returns, p.closed = nil, nil, nil
	p.Stats.Connected.Store(false)
}

// closeTimeout bounds the wait for the broker's close-ok: a half-dead
// connection must not hold up reconnecting.
const closeTimeout = 5 * time.Second
