// Package amqpsend publishes messages to RabbitMQ so that none is lost
// silently: persistent delivery, publisher confirms with a window of
// outstanding messages, mandatory routing (an unroutable message is an
// error, not a drop), and reconnection (to the next node of a cluster) that
// publishes again, with the same message-id, every message the broker had
// not confirmed. While the broker blocks publishing (flow control), it waits.
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
	// is retried, over all the nodes, before Run gives up; 0 tries each
	// node once.
	RetryFor time.Duration
	Log      *slog.Logger
}

// Stats counts what happened; safe to read while Run runs. The embedded
// amqpconn.Stats has the reconnects, the node connected to and the time
// the broker blocked publishing.
type Stats struct {
	amqpconn.Stats
	Read        atomic.Int64 // messages taken from the input
	Published   atomic.Int64 // publish calls, re-publishing included
	Confirmed   atomic.Int64 // acked by the broker (and not returned)
	Failed      atomic.Int64 // reported through the fail callback
	Nacked      atomic.Int64 // refused by the broker (counted in Failed too)
	Returned    atomic.Int64 // unroutable (counted in Failed too)
	Republished atomic.Int64
	LastLine    atomic.Int64 // Line of the last message taken from the input
	Connected   atomic.Bool  // a channel to the broker is open
}

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
	cfg    Config
	Stats  Stats
	dialer *amqpconn.Dialer

	conn     *amqpconn.Conn
	blocked  bool // the broker blocks publishing on conn
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
	p := &Publisher{cfg: cfg}
	p.dialer = amqpconn.NewDialer(cfg.Conn, cfg.RetryFor, cfg.Log, &p.Stats.Stats)
	return p
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

// connect (re)establishes connection and channel, on the next node.
func (p *Publisher) connect(ctx context.Context) error {
	conn, err := p.dialer.Connect(ctx, p.setup)
	if err != nil {
		return err
	}
	p.conn, p.blocked = conn, false
	p.Stats.Connected.Store(true)
	return nil
}

// setup declares or checks the target on a new connection and opens the
// confirm-mode channel.
func (p *Publisher) setup(conn *amqp.Connection) error {
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
	p.closed = ch.NotifyClose(make(chan *amqp.Error, 1))
	p.ch = ch
	p.tag = 0
	return nil
}

func (p *Publisher) disconnect() {
	if p.conn != nil {
		deadline := time.Now().Add(amqpconn.CloseTimeout)
		if p.blocked {
			deadline = time.Now() // a blocked connection is not read: no close-ok will come
		}
		p.conn.CloseDeadline(deadline)
	}
	p.conn, p.ch, p.blocked = nil, nil, false
	p.confirms, p.returns, p.closed = nil, nil, nil
	p.Stats.Connected.Store(false)
}
