// Package amqprecv consumes a RabbitMQ queue with manual acknowledgements
// and acks a message only after it was handled: written and flushed to an
// io.Writer, or fed to a command that exited 0. Messages that cannot be
// handled go to the dead-letter queue Q.dead with the reason; a command that
// fails transiently gets its batch requeued, with backoff. The connection is
// re-established when it drops (to the next node of a cluster), and a
// delivery tag from before a reconnect is never acked on the new channel
// (the broker has requeued it already).
package amqprecv

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

// Config says what to consume and how.
type Config struct {
	Conn     amqpconn.Config
	Queue    amqpconn.Queue
	Prefetch int // unacked messages the broker may send ahead; <= 0: 500, at most MaxPrefetch
	// RetryFor bounds how long a lost (or never established) connection
	// is retried, over all the nodes, before giving up; 0 tries each node
	// once.
	RetryFor time.Duration
	Log      *slog.Logger
}

// Delivery is a message with the connection generation it came from.
type Delivery struct {
	amqp.Delivery
	gen uint64
}

// Stats counts what happened; safe to read while consuming. The embedded
// amqpconn.Stats has the reconnects, the node connected to and the time
// the broker blocked the connection (while it published dead letters).
type Stats struct {
	amqpconn.Stats
	Delivered    atomic.Int64
	Acked        atomic.Int64 // handled and acked
	DeadLettered atomic.Int64
	Requeued     atomic.Int64
	Lost         atomic.Int64 // handled, but the ack could not be sent: will come again
	Connected    atomic.Bool  // consuming on an open channel
}

// ErrStale is returned when settling a delivery received on a connection
// that has since been lost: the broker requeued it and will deliver it again.
var ErrStale = errors.New("delivery from a lost connection (the broker requeued it)")

// Consumer is a consuming connection. Its methods are for one goroutine.
type Consumer struct {
	cfg    Config
	Stats  Stats
	dialer *amqpconn.Dialer

	conn       *amqpconn.Conn
	ch         *amqp.Channel
	deliveries <-chan amqp.Delivery
	gen        uint64
	deadExists bool
	closed     chan *amqp.Error

	pub         *amqp.Channel // confirm-mode channel for dead-letter copies
	pubConfirms chan amqp.Confirmation
	pubReturns  chan amqp.Return
}

// MaxPrefetch is the largest Prefetch: AMQP's prefetch-count is 16 bits,
// and a larger number would wrap around (65536 to 0, which means unlimited).
const MaxPrefetch = 65535

// NewConsumer returns a consumer; nothing is connected until Connect or Next.
func NewConsumer(cfg Config) *Consumer {
	if cfg.Prefetch <= 0 {
		cfg.Prefetch = 500
	}
	cfg.Prefetch = min(cfg.Prefetch, MaxPrefetch)
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	c := &Consumer{cfg: cfg}
	c.dialer = amqpconn.NewDialer(cfg.Conn, cfg.RetryFor, cfg.Log, &c.Stats.Stats)
	return c
}

// Prefetch is the prefetch count in use.
func (c *Consumer) Prefetch() int { return c.cfg.Prefetch }

// Connect connects, declares the queue and starts consuming, retrying
// transient failures (on every node) for up to RetryFor.
func (c *Consumer) Connect(ctx context.Context) error {
	if c.ch != nil {
		return nil
	}
	conn, err := c.dialer.Connect(ctx, c.setup)
	if err != nil {
		return err
	}
	c.conn = conn
	c.gen++
	c.Stats.Connected.Store(true)
	return nil
}

// setup declares the queue on a new connection and starts consuming.
func (c *Consumer) setup(conn *amqp.Connection) error {
	closed := conn.NotifyClose(make(chan *amqp.Error, 1))
	dead, err := amqpconn.Declare(conn, c.cfg.Queue)
	if err != nil {
		return err
	}
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	if err := ch.Qos(c.cfg.Prefetch, 0, false); err != nil {
		return err
	}
	ds, err := ch.Consume(c.cfg.Queue.Name, "", false, false, false, false, nil)
	if err != nil {
		var ae *amqp.Error
		if errors.As(err, &ae) && ae.Code == amqp.AccessRefused {
			return &amqpconn.Permanent{Err: fmt.Errorf("consume %q: %s", c.cfg.Queue.Name, ae.Reason)}
		}
		return err
	}
	c.ch, c.deliveries, c.deadExists, c.closed = ch, ds, dead, closed
	return nil
}

func (c *Consumer) disconnect() {
	if c.conn != nil {
		c.conn.CloseDeadline(time.Now().Add(amqpconn.CloseTimeout))
	}
	c.conn, c.ch, c.deliveries, c.pub = nil, nil, nil, nil
	c.Stats.Connected.Store(false)
}

// Close closes the connection: the broker requeues whatever was not acked.
func (c *Consumer) Close() { c.disconnect() }

// Next returns the next delivery. wait < 0 waits as long as it takes,
// wait == 0 only takes one already received, and wait > 0 waits that
// long. A nil delivery with a nil error means none came in time. A lost
// connection is re-established on the way; ctx ends the wait with its error.
func (c *Consumer) Next(ctx context.Context, wait time.Duration) (*Delivery, error) {
	var timeout <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	for {
		if c.ch == nil {
			if err := c.Connect(ctx); err != nil {
				return nil, err
			}
		}
		if wait == 0 {
			select {
			case d, ok := <-c.deliveries:
				if ok {
					c.Stats.Delivered.Add(1)
					return &Delivery{d, c.gen}, nil
				}
				c.lost()
				continue
			default:
				return nil, nil
			}
		}
		select {
		case d, ok := <-c.deliveries:
			if ok {
				c.Stats.Delivered.Add(1)
				return &Delivery{d, c.gen}, nil
			}
			c.lost()
		case <-timeout:
			return nil, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (c *Consumer) lost() {
	reason := error(amqp.ErrClosed)
	select {
	case e := <-c.closed:
		if e != nil {
			reason = e
		}
	default:
	}
	c.cfg.Log.Warn("connection lost; unacked messages go back to the queue", "node", c.conn.URL, "err", reason)
	c.disconnect()
}

func (c *Consumer) current(d *Delivery) error {
	if c.ch == nil || d.gen != c.gen {
		return ErrStale
	}
	return nil
}

// Ack acks d (and with multiple every earlier unsettled delivery).
func (c *Consumer) Ack(d *Delivery, multiple bool, n int) error {
	if err := c.current(d); err != nil {
		c.Stats.Lost.Add(int64(n))
		return err
	}
	if err := c.ch.Ack(d.DeliveryTag, multiple); err != nil {
		c.Stats.Lost.Add(int64(n))
		return fmt.Errorf("%w: %w", ErrStale, err)
	}
	c.Stats.Acked.Add(int64(n))
	return nil
}

// Requeue gives d (and with multiple every earlier unsettled delivery)
// back to the queue.
func (c *Consumer) Requeue(d *Delivery, multiple bool, n int) error {
	if err := c.current(d); err != nil {
		return err
	}
	if err := c.ch.Nack(d.DeliveryTag, multiple, true); err != nil {
		return fmt.Errorf("%w: %w", ErrStale, err)
	}
	c.Stats.Requeued.Add(int64(n))
	return nil
}

// Drained reports whether the queue has no message ready. The question goes
// on the consuming channel, so every delivery the broker sent before its
// answer has been received by then.
func (c *Consumer) Drained() (bool, error) {
	if c.ch == nil {
		return false, nil
	}
	q, err := c.ch.QueueDeclarePassive(c.cfg.Queue.Name, true, false, false, false, nil)
	if err != nil {
		return false, nil // the connection is going: Next reconnects
	}
	return q.Messages == 0, nil
}

// DeadLetter takes d out of the queue for good, with reason. When the queue
// Q.dead exists, a copy of d carrying the headers x-hms-reason and
// x-hms-queue is published to it and confirmed before d is acked;
// otherwise d is rejected without requeue and the queue's own dead-letter
// policy applies (or the broker drops it).
func (c *Consumer) DeadLetter(d *Delivery, reason string) error {
	if err := c.current(d); err != nil {
		return err
	}
	c.cfg.Log.Warn("dead-lettered", "message_id", d.MessageId, "reason", reason,
		"queue", amqpconn.DeadName(c.cfg.Queue.Name))
	if !c.deadExists {
		if err := c.ch.Nack(d.DeliveryTag, false, false); err != nil {
			return fmt.Errorf("%w: %w", ErrStale, err)
		}
		c.Stats.DeadLettered.Add(1)
		return nil
	}
	if err := c.publishDead(d, reason); err != nil {
		var ret *returnedError
		if !errors.As(err, &ret) {
			// The channel went away: the original, unacked, comes again.
			c.pub = nil
			c.cfg.Log.Warn("cannot dead-letter now, the message stays in the queue", "message_id", d.MessageId, "err", err)
			return fmt.Errorf("%w: %w", ErrStale, err)
		}
		// Q.dead is gone: reject, and let the queue's own settings decide.
		c.cfg.Log.Warn("cannot copy to the dead-letter queue; rejecting instead", "message_id", d.MessageId, "err", err)
		if err := c.ch.Nack(d.DeliveryTag, false, false); err != nil {
			return fmt.Errorf("%w: %w", ErrStale, err)
		}
		c.Stats.DeadLettered.Add(1)
		return nil
	}
	if err := c.ch.Ack(d.DeliveryTag, false); err != nil {
		return fmt.Errorf("%w: %w", ErrStale, err)
	}
	c.Stats.DeadLettered.Add(1)
	return nil
}

func (c *Consumer) publishDead(d *Delivery, reason string) error {
	if c.pub == nil {
		ch, err := c.conn.Channel()
		if err != nil {
			return err
		}
		if err := ch.Confirm(false); err != nil {
			return err
		}
		c.pubConfirms = ch.NotifyPublish(make(chan amqp.Confirmation, 1))
		c.pubReturns = ch.NotifyReturn(make(chan amqp.Return)) // unbuffered: a return is seen before its ack
		c.pub = ch
	}
	h := amqp.Table{}
	for k, v := range d.Headers {
		h[k] = v
	}
	h["x-hms-reason"] = reason
	h["x-hms-queue"] = c.cfg.Queue.Name
	err := c.pub.Publish("", amqpconn.DeadName(c.cfg.Queue.Name), true, false, amqp.Publishing{
		Headers: h, ContentType: d.ContentType, ContentEncoding: d.ContentEncoding,
		DeliveryMode: amqp.Persistent, MessageId: d.MessageId, CorrelationId: d.CorrelationId,
		Timestamp: d.Timestamp, Type: d.Type, AppId: d.AppId, Body: d.Body,
	})
	if err != nil {
		c.pub = nil
		return err
	}
	t := time.NewTimer(30 * time.Second)
	defer t.Stop()
	select {
	case r, ok := <-c.pubReturns:
		if !ok {
			return amqp.ErrClosed
		}
		<-c.pubConfirms
		return &returnedError{fmt.Sprintf("queue %s: %s", amqpconn.DeadName(c.cfg.Queue.Name), r.ReplyText)}
	case conf, ok := <-c.pubConfirms:
		if !ok {
			c.pub = nil
			return amqp.ErrClosed
		}
		if !conf.Ack {
			return errors.New("the broker refused the dead-letter copy")
		}
		return nil
	case <-t.C:
		return errors.New("no confirm for the dead-letter copy within 30s")
	}
}

// returnedError is a dead-letter copy the broker could not route.
type returnedError struct{ msg string }

func (e *returnedError) Error() string { return e.msg }
