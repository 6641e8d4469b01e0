package amqpsend

import (
	"context"
	"errors"
	"fmt"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hms-toolkit/hms/pkg/amqpconn"
	"github.com/hms-toolkit/hms/pkg/backoff"
)

// errNacked is the error of a message the broker kept refusing.
var errNacked = errors.New("refused by the broker (nack): the queue may be full (x-overflow reject-publish) or unavailable")

// Run publishes every message from in until in is closed, and returns once
// each published message is confirmed or failed. fail is called, from
// Run's goroutine, for each message that was not confirmed: unroutable,
// refused by the broker, or still unconfirmed when Run gave up (then with
// an error wrapping ErrNotSent). When Run gives up it returns the reason at
// once, without reading the rest of in: that is the caller's to decide.
// ctx cuts Run short: once it is done, Run gives up with ctx's cause. To
// stop gracefully, close in, and let ctx bound the wait for the confirms
// (which a broker blocking publishers holds back for as long as it does).
//
// A message the broker refuses (a nack: a quorum queue between two
// leaders, a full queue that rejects publishing) is published again after
// a pause, on a new connection; it fails once the broker has refused
// messages for RetryFor without confirming any.
func (p *Publisher) Run(ctx context.Context, in <-chan Message, fail func(Message, error)) error {
	defer p.disconnect()
	r := &run{p: p, fail: fail, inOpen: true}
	for r.inOpen || len(r.inflight) > 0 || len(r.retry) > 0 || len(r.nacked) > 0 {
		if ctx.Err() != nil {
			return r.giveUp(context.Cause(ctx))
		}
		if p.ch == nil {
			if err := r.connect(ctx); err != nil {
				return err
			}
		}
		switch {
		case len(r.nacked) > 0 && len(r.inflight) == 0:
			r.retryNacked(ctx)
			continue
		case len(r.retry) > 0 && len(r.inflight) < p.cfg.Window && !p.blocked:
			r.republish()
			continue
		}
		var src <-chan Message
		if r.inOpen && len(r.retry) == 0 && len(r.nacked) == 0 && len(r.inflight) < p.cfg.Window && !p.blocked {
			src = in
		}
		select {
		case m, ok := <-src:
			if !ok {
				r.inOpen = false
				continue
			}
			p.Stats.Read.Add(1)
			p.Stats.LastLine.Store(m.Line)
			if err := p.publish(m); err != nil {
				r.retry = append(r.retry, m)
				r.lost(err)
				continue
			}
			r.inflight = append(r.inflight, pending{m: m, tag: p.tag})
		case ret, ok := <-p.returns:
			if !ok {
				p.returns = nil // shut down: the confirms channel says so too
				continue
			}
			markReturned(r.inflight, ret)
		case c, ok := <-p.confirms:
			if !ok {
				r.lost(p.closeReason())
				continue
			}
			r.settle(c)
			r.noProgress = 0
		case err := <-p.closed:
			if err == nil {
				err = amqp.ErrClosed
			}
			r.lost(err)
		case p.blocked = <-p.conn.Blocked():
			// Publishing more would only fill the socket's buffers.
		case <-ctx.Done():
		}
	}
	return nil
}

// run is the state of one Run: the messages between the input and the
// broker.
type run struct {
	p          *Publisher
	fail       func(Message, error)
	inflight   []pending // published, unconfirmed, in publish order
	retry      []Message // to publish again first
	nacked     []Message // refused by the broker: to publish again after a pause
	nackedAt   time.Time // when the broker began refusing without confirming; zero: it does not
	pause      backoff.Backoff
	inOpen     bool
	noProgress int // connections lost in a row without a confirm
}

// connect connects, unless the connection keeps being lost without a
// confirm (a message over the broker's max_message_size, a policy...):
// then, and when no node can be reached, every message left fails.
func (r *run) connect(ctx context.Context) error {
	err := error(nil)
	if r.noProgress > 10 {
		err = fmt.Errorf("%w: the connection was lost %d times in a row without a single confirm", amqpconn.ErrGaveUp, r.noProgress)
	} else {
		err = r.p.connect(ctx)
	}
	if err != nil {
		return r.giveUp(err)
	}
	return nil
}

// giveUp fails every message not confirmed yet, with ErrNotSent and why,
// and returns why.
func (r *run) giveUp(why error) error {
	err := fmt.Errorf("%w: %w", ErrNotSent, why)
	for _, q := range r.inflight {
		r.retry = append(r.retry, q.m)
	}
	for _, m := range append(r.retry, r.nacked...) {
		r.p.Stats.Failed.Add(1)
		r.fail(m, err)
	}
	r.inflight, r.retry, r.nacked = nil, nil, nil
	return why
}

// lost handles a lost connection: what was in flight is published again.
func (r *run) lost(err error) {
	// Confirms the library still holds are good news: take them.
drain:
	for {
		select {
		case c, ok := <-r.p.confirms:
			if !ok {
				break drain
			}
			if len(r.inflight) > 0 && r.inflight[0].tag == c.DeliveryTag {
				r.settle(c)
			}
		default:
			break drain
		}
	}
	r.p.cfg.Log.Warn("connection lost", "node", r.p.conn.URL, "err", err, "unconfirmed", len(r.inflight))
	r.p.disconnect()
	r.noProgress++
	ms := make([]Message, 0, len(r.inflight)+len(r.retry))
	for _, q := range r.inflight {
		ms = append(ms, q.m)
	}
	r.retry = append(ms, r.retry...)
	r.inflight = r.inflight[:0]
}

// republish publishes the first message to publish again.
func (r *run) republish() {
	m := r.retry[0]
	if err := r.p.publish(m); err != nil {
		r.lost(err)
		return
	}
	r.retry = r.retry[1:]
	r.p.Stats.Republished.Add(1)
	r.inflight = append(r.inflight, pending{m: m, tag: r.p.tag})
	// Keep up with confirms without blocking.
	select {
	case c, ok := <-r.p.confirms:
		if !ok {
			r.lost(r.p.closeReason())
			return
		}
		r.settle(c)
	default:
	}
}

// settle takes the confirm of the oldest message in flight.
func (r *run) settle(c amqp.Confirmation) {
	p := r.p
	p.takeReturns(r.inflight)
	if len(r.inflight) == 0 || r.inflight[0].tag != c.DeliveryTag {
		// The library delivers confirms in tag order; anything else is a bug.
		panic(fmt.Sprintf("amqpsend: confirm for tag %d, expected %v", c.DeliveryTag, r.inflight))
	}
	q := r.inflight[0]
	r.inflight = r.inflight[1:]
	switch {
	case !c.Ack && r.nackedAt.IsZero():
		r.nackedAt = time.Now()
		r.nacked = append(r.nacked, q.m)
	case !c.Ack && time.Since(r.nackedAt) < p.cfg.RetryFor:
		r.nacked = append(r.nacked, q.m)
	case !c.Ack:
		// Refused for RetryFor, and nothing confirmed since.
		r.failNacked(q.m)
	case q.returned != "":
		p.Stats.Failed.Add(1)
		p.Stats.Returned.Add(1)
		r.fail(q.m, errors.New(q.returned))
	default:
		p.Stats.Confirmed.Add(1)
		r.nackedAt = time.Time{}
		r.pause.Reset()
	}
}

// failNacked fails m, which the broker refused for RetryFor.
func (r *run) failNacked(m Message) {
	r.p.Stats.Failed.Add(1)
	r.p.Stats.Nacked.Add(1)
	r.fail(m, errNacked)
}

// retryNacked handles the messages the broker refused, once none is in
// flight: after a pause they go to be published again, on a new connection
// (a channel of a quorum queue can stay in a refusing state after its
// leader changed; the next node is as good); once the broker has refused
// for RetryFor, they fail.
func (r *run) retryNacked(ctx context.Context) {
	p := r.p
	left := time.Until(r.nackedAt.Add(p.cfg.RetryFor))
	if left <= 0 {
		for _, m := range r.nacked {
			r.failNacked(m)
		}
		r.nacked = nil
		return
	}
	wait := min(r.pause.Next(), left)
	p.cfg.Log.Warn("the broker refused messages (nack); publishing them again", "count", len(r.nacked),
		"node", p.conn.URL, "in", wait, "giving_up_in", left)
	if backoff.Sleep(ctx, wait) != nil {
		return // cut short: Run gives up
	}
	r.retry = append(r.nacked, r.retry...)
	r.nacked = nil
	p.disconnect()
}
