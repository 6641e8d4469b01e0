package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// A server can be slow for a long time and still be working (FerretDB's
// updates scan the whole collection), or stop answering altogether (a
// stopped process, a network that drops packets): no fixed operation
// deadline tells the two apart. Guard does: while an operation runs, it asks
// the server "hello" on another connection — a command every server answers
// at once, however busy, without touching its data — and cancels the
// operation once the server has answered nothing for ConnectTimeout.

// ErrNotAnswering is wrapped by the error of an operation that Guard cut
// short because the server stopped answering. It is transient.
var ErrNotAnswering = errors.New("the server stopped answering")

// Guard runs op with a context that is cancelled when the server stops
// answering: no reply to a hello for ConnectTimeout. The error is then one
// that wraps ErrNotAnswering, not op's own.
func (c *Client) Guard(ctx context.Context, op func(context.Context) error) error {
	gctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := c.watch(gctx, cancel)
	err := op(gctx)
	stop()
	if cause := context.Cause(gctx); ctx.Err() == nil && errors.Is(cause, ErrNotAnswering) {
		return cause
	}
	return err
}

// watch cancels ctx (with an ErrNotAnswering cause) once the server has not
// answered for c.silence, probing it from a second after the start.
func (c *Client) watch(ctx context.Context, cancel context.CancelCauseFunc) (stop func()) {
	every := min(max(c.silence/4, 50*time.Millisecond), time.Second)
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		pctx, stopProbes := context.WithCancel(ctx)
		defer stopProbes()
		answered := make(chan bool, 1) // one probe at a time
		probing := false
		last := time.Now()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-ctx.Done():
				return
			case ok := <-answered:
				probing = false
				if ok {
					last = time.Now()
				}
			case now := <-t.C:
				if silent := now.Sub(last); silent >= c.silence {
					cancel(fmt.Errorf("%w: no reply for %v", ErrNotAnswering, silent.Round(time.Second/10)))
					return
				}
				if !probing {
					probing = true
					go c.probe(pctx, answered)
				}
			}
		}
	}()
	return func() { close(quit); <-done }
}

// probe asks the server hello and says whether it answered.
func (c *Client) probe(ctx context.Context, answered chan<- bool) {
	ctx, cancel := context.WithTimeout(ctx, c.silence)
	defer cancel()
	err := c.mc.Database("admin").RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Err()
	answered <- err == nil
}
