package amqprecv

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"github.com/hms-toolkit/hms/pkg/amqpconn"
)

// Options say when to stop and how to turn a message into a line.
type Options struct {
	Count       int64         // stop after this many handled messages; 0: no limit
	Drain       bool          // stop when the queue has no message ready
	IdleTimeout time.Duration // stop after this long without a message; 0: never
	JSON        bool          // one JSON object per message instead of the bare body
	// Check, when set, is asked about each message before it is handled; a
	// non-nil error dead-letters the message with the error as reason.
	Check func(d *Delivery) error
	// OnBatch, when set, is told the size of each batch: the messages acked
	// at once (ToWriter) or given to one run of the command (ToCommand).
	OnBatch func(n int)
	// Reason, when set, turns why a message cannot be handled (ErrNewline,
	// or Check's error) into the reason it is dead-lettered with; nil:
	// the error's text. The caller may say what its user can do about it.
	Reason func(err error) string
}

// ErrNewline is why a body with a newline has no line (without JSON).
var ErrNewline = errors.New("the body contains a newline")

// drainGrace is how long Drain waits, once the broker says the queue has
// nothing ready, for deliveries that may still be on their way.
const drainGrace = 50 * time.Millisecond

// requeueGrace is how long Drain waits instead when messages this consumer
// requeued have not come back yet: the broker applies a requeue
// asynchronously (a quorum queue through its log), so the queue can look
// empty while they are on their way back. Another consumer may take them,
// or the broker dead-letter them (delivery limit): the wait is bounded.
const requeueGrace = 5 * time.Second

// flowWait is how long ToWriter waits for the next delivery before it
// flushes and acks what it has written.
const flowWait = 2 * time.Millisecond

// Line is the line that stands for d: its body (which must not contain a
// newline), or with asJSON a JSON object with body and properties.
func Line(d *Delivery, asJSON bool) ([]byte, error) {
	if !asJSON {
		if bytes.IndexByte(d.Body, '\n') >= 0 {
			return nil, ErrNewline
		}
		return d.Body, nil
	}
	return json.Marshal(toJSON(d))
}

// lineFor returns the line of d; ok is false when d has none (a body with
// a newline) or Check refuses it: d was then dead-lettered, and err is
// that of the dead-lettering.
func (c *Consumer) lineFor(d *Delivery, opt Options) (line []byte, ok bool, err error) {
	line, err = Line(d, opt.JSON)
	if err == nil && opt.Check != nil {
		err = opt.Check(d)
	}
	if err == nil {
		return line, true, nil
	}
	reason := err.Error()
	if opt.Reason != nil {
		reason = opt.Reason(err)
	}
	if err := c.DeadLetter(d, reason); err != nil && !errors.Is(err, ErrStale) {
		return nil, false, err
	}
	return nil, false, nil
}

// JSONMessage is the JSON form of a message (hms-recv --format json).
type JSONMessage struct {
	Body          *string        `json:"body,omitempty"`
	BodyBase64    []byte         `json:"body_base64,omitempty"` // when the body is not UTF-8
	MessageID     string         `json:"message_id,omitempty"`
	ContentType   string         `json:"content_type,omitempty"`
	CorrelationID string         `json:"correlation_id,omitempty"`
	Timestamp     *time.Time     `json:"timestamp,omitempty"`
	Exchange      string         `json:"exchange"`
	RoutingKey    string         `json:"routing_key"`
	Redelivered   bool           `json:"redelivered,omitempty"`
	Headers       map[string]any `json:"headers,omitempty"`
}

func toJSON(d *Delivery) JSONMessage {
	m := JSONMessage{
		MessageID: d.MessageId, ContentType: d.ContentType, CorrelationID: d.CorrelationId,
		Exchange: d.Exchange, RoutingKey: d.RoutingKey, Redelivered: d.Redelivered,
	}
	if utf8.Valid(d.Body) {
		s := string(d.Body)
		m.Body = &s
	} else {
		m.BodyBase64 = d.Body
	}
	if !d.Timestamp.IsZero() {
		t := d.Timestamp.UTC()
		m.Timestamp = &t
	}
	if len(d.Headers) > 0 {
		m.Headers = map[string]any(d.Headers)
	}
	return m
}

// Summary is the one line that says what a run did in elapsed.
func (s *Stats) Summary(elapsed time.Duration) string {
	return fmt.Sprintf("acked %d, dead-lettered %d, requeued %d, to be redelivered %d; %d reconnects, %.0f msg/s%s",
		s.Acked.Load(), s.DeadLettered.Load(), s.Requeued.Load(), s.Lost.Load(), s.Reconnects.Load(),
		float64(s.Acked.Load())/elapsed.Seconds(), amqpconn.BlockedSummary(s.Blocked()))
}

// stopper tracks the stop conditions shared by both modes.
type stopper struct {
	c       *Consumer
	opt     Options
	handled int64
	// returning, when set, reports whether messages requeued by this
	// consumer are still on their way back (see requeueGrace).
	returning func() bool
}

func (s *stopper) done() bool { return s.opt.Count > 0 && s.handled >= s.opt.Count }

// wait is called when no delivery is at hand (and everything handled has
// been settled): it waits for the next one, or returns nil when the run
// should stop (queue drained, idle timeout, ctx done).
func (s *stopper) wait(ctx context.Context) (*Delivery, error) {
	if s.opt.Drain {
		empty, err := s.c.Drained()
		if err != nil {
			return nil, err
		}
		if empty {
			grace := drainGrace
			if s.returning != nil && s.returning() {
				grace = requeueGrace
			}
			d, err := s.c.Next(ctx, grace)
			if d == nil && err == nil {
				return nil, nil
			}
			return d, err
		}
	}
	wait := time.Duration(-1)
	if s.opt.IdleTimeout > 0 {
		wait = s.opt.IdleTimeout
	}
	if s.opt.Drain && (wait < 0 || wait > time.Second) {
		// Check the queue again now and then: another consumer may empty it.
		d, err := s.c.Next(ctx, time.Second)
		if d == nil && err == nil && ctx.Err() == nil {
			return s.wait(ctx)
		}
		return d, err
	}
	return s.c.Next(ctx, wait)
}

// ToWriter writes each message as a line to w and acks it once written and
// flushed, in multiple-acks of up to half the prefetch count. It returns nil
// when a stop condition is met or ctx is done (a signal), and a write error
// (EPIPE when the reader went away) or a connection error otherwise.
func (c *Consumer) ToWriter(ctx context.Context, w io.Writer, opt Options) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	ackEvery := max(1, c.cfg.Prefetch/2)
	s := &stopper{c: c, opt: opt}
	var last *Delivery
	unacked := 0
	settle := func() error {
		if unacked == 0 {
			return nil
		}
		if err := bw.Flush(); err != nil {
			return err // not acked: the broker requeues them
		}
		if opt.OnBatch != nil {
			opt.OnBatch(unacked)
		}
		if err := c.Ack(last, true, unacked); err != nil {
			c.cfg.Log.Warn("handled messages will be delivered again: the connection was lost before their ack", "count", unacked)
		}
		unacked = 0
		return nil
	}
	for !s.done() {
		d, err := c.Next(ctx, 0)
		if d == nil && err == nil && unacked > 0 {
			// Between two deliveries of a busy queue: a short wait is
			// cheaper than a flush and an ack per message.
			d, err = c.Next(ctx, flowWait)
		}
		if d == nil && err == nil {
			if err := settle(); err != nil {
				return err
			}
			d, err = s.wait(ctx)
			if d == nil && err == nil {
				return nil
			}
		}
		if err != nil {
			if serr := settle(); serr != nil {
				return serr
			}
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if last != nil && d.gen != last.gen && unacked > 0 {
			// Written, but their channel is gone: they will come again.
			c.Stats.Lost.Add(int64(unacked))
			c.cfg.Log.Warn("handled messages will be delivered again: the connection was lost before their ack", "count", unacked)
			if err := bw.Flush(); err != nil {
				return err
			}
			unacked = 0
		}
		line, ok, err := c.lineFor(d, opt)
		if err != nil {
			return err
		}
		if !ok {
			continue // dead-lettered
		}
		bw.Write(line)
		if err := bw.WriteByte('\n'); err != nil {
			return err
		}
		last = d
		unacked++
		s.handled++
		if unacked >= ackEvery {
			if err := settle(); err != nil {
				return err
			}
		}
	}
	return settle()
}
