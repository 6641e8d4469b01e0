package amqpsend_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hms-toolkit/hms/internal/testenv"
	"github.com/hms-toolkit/hms/pkg/amqpconn"
	"github.com/hms-toolkit/hms/pkg/amqpsend"
)

// fullQueue declares a queue of the test's own that holds at most 3
// messages and refuses (nacks) more.
func fullQueue(t *testing.T) (string, *amqp.Channel) {
	t.Helper()
	q := testenv.Queue(t)
	ch := testenv.Channel(t)
	args := amqp.Table{"x-max-length": int32(3), "x-overflow": "reject-publish"}
	if _, err := ch.QueueDeclare(q, true, false, false, false, args); err != nil {
		t.Fatal(err)
	}
	return q, ch
}

// send publishes n messages to q and returns the errors of those that failed.
func send(t *testing.T, q string, n int, retryFor time.Duration) (*amqpsend.Publisher, []error) {
	t.Helper()
	p := amqpsend.New(amqpsend.Config{
		Conn:     amqpconn.Config{URLs: []string{testenv.AMQPURL()}},
		Queue:    amqpconn.Queue{Name: q, NoDeclare: true},
		RetryFor: retryFor,
	})
	in := make(chan amqpsend.Message, n)
	for i := 1; i <= n; i++ {
		in <- amqpsend.Message{Line: int64(i), Body: []byte(fmt.Sprint("m", i)), MessageID: fmt.Sprint("m", i)}
	}
	close(in)
	var failed []error
	if err := p.Run(context.Background(), in, func(_ amqpsend.Message, err error) { failed = append(failed, err) }); err != nil {
		t.Fatal(err)
	}
	return p, failed
}

// A message the broker refuses is published again (after a pause, on a new
// connection) until the broker takes it: here once a consumer made room.
func TestNackedPublishedAgain(t *testing.T) {
	q, ch := fullQueue(t)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // once the queue is full, empty it
		defer wg.Done()
		full := testenv.WaitFor(time.Minute, func() bool {
			st, err := ch.QueueDeclarePassive(q, true, false, false, false, nil)
			return err == nil && st.Messages == 3
		})
		if !full {
			t.Errorf("the queue never held 3 messages")
			return
		}
		for range 3 {
			d, ok, err := ch.Get(q, false)
			if err != nil || !ok {
				t.Errorf("get: %v %v", ok, err)
				return
			}
			d.Ack(false)
		}
	}()
	p, failed := send(t, q, 6, time.Minute)
	wg.Wait()
	if len(failed) > 0 || p.Stats.Confirmed.Load() != 6 {
		t.Fatalf("confirmed %d, failed %v", p.Stats.Confirmed.Load(), failed)
	}
	if p.Stats.Republished.Load() < 3 {
		t.Fatalf("republished %d, want the 3 refused at least", p.Stats.Republished.Load())
	}
}

// Refused for RetryFor without a confirm, the messages fail; the others
// are confirmed.
func TestNackedFailAfterRetryFor(t *testing.T) {
	q, _ := fullQueue(t)
	start := time.Now()
	p, failed := send(t, q, 6, 300*time.Millisecond)
	if el := time.Since(start); el < 300*time.Millisecond {
		t.Fatalf("gave up after %v, before RetryFor", el)
	}
	if p.Stats.Confirmed.Load() != 3 || len(failed) != 3 {
		t.Fatalf("confirmed %d, failed %d, want 3 and 3", p.Stats.Confirmed.Load(), len(failed))
	}
	for _, err := range failed {
		if errors.Is(err, amqpsend.ErrNotSent) || err.Error() != "refused by the broker (nack): the queue may be full (x-overflow reject-publish) or unavailable" {
			t.Fatalf("failed with %v", err)
		}
	}
}
