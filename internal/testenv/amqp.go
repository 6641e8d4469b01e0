package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hms-toolkit/hms/pkg/faultproxy"
)

// EnvAMQPURL names the one variable that points the tests at a broker.
const EnvAMQPURL = "HMS_TEST_AMQP_URL"

// DefaultAMQPURL is the broker of the machine, which scripts/test.sh starts.
const DefaultAMQPURL = "amqp://guest:guest@127.0.0.1:5672/"

// AMQPURL returns the URL of the test broker: $HMS_TEST_AMQP_URL, or
// DefaultAMQPURL.
func AMQPURL() string {
	if u := os.Getenv(EnvAMQPURL); u != "" {
		return u
	}
	return DefaultAMQPURL
}

// redactedAMQPURL is AMQPURL fit for a message: no password.
func redactedAMQPURL() string {
	u, err := url.Parse(AMQPURL())
	if err != nil {
		return "$" + EnvAMQPURL + " (not a URL)"
	}
	return u.Redacted()
}

// UniqueName returns prefix followed by a random suffix: a name no other
// test, run or clone uses at the same time (tests share the machine's
// broker). Characters other than letters, digits, '.', '-' and '_' become '_'.
func UniqueName(prefix string) string {
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, prefix)
	var b [6]byte
	rand.Read(b[:])
	return clean + "." + hex.EncodeToString(b[:])
}

// dialBroker connects to the test broker, with an error that says what is
// missing.
func dialBroker() (*amqp.Connection, error) {
	conn, err := amqp.Dial(AMQPURL())
	if err != nil {
		return nil, &missingBroker{err}
	}
	return conn, nil
}

type missingBroker struct{ err error }

func (e *missingBroker) Error() string {
	return "RabbitMQ is required at " + redactedAMQPURL() + " (scripts/test.sh starts it; " +
		EnvAMQPURL + " names another): " + e.err.Error()
}

func (e *missingBroker) Unwrap() error { return e.err }

// DeleteQueues deletes each named queue and its dead-letter queue NAME.dead
// (cleanup: errors are ignored, missing queues are fine).
func DeleteQueues(names ...string) {
	conn, err := amqp.Dial(AMQPURL())
	if err != nil {
		return
	}
	defer conn.Close()
	for _, name := range names {
		for _, q := range []string{name, name + ".dead"} {
			// A channel each: a failed delete closes its channel.
			if ch, err := conn.Channel(); err == nil {
				ch.QueueDelete(q, false, false, false)
				ch.Close()
			}
		}
	}
}

// Queue returns a queue name of the test's own; the queue and its .dead are
// deleted when the test ends.
func Queue(t testing.TB) string {
	q := UniqueName("hmstest.go." + t.Name())
	t.Cleanup(func() { DeleteQueues(q) })
	return q
}

// Channel returns a channel on the test broker, closed when the test ends;
// it fails t when no broker answers.
func Channel(t testing.TB) *amqp.Channel {
	t.Helper()
	conn, err := dialBroker()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// AMQPProxy starts a proxy to the test broker (pkg/faultproxy: it cuts
// connections on demand), closed when the test ends, and returns it with
// the broker's URL through it.
func AMQPProxy(t testing.TB) (*faultproxy.Proxy, string) {
	t.Helper()
	u, err := url.Parse(AMQPURL())
	if err != nil {
		t.Fatalf("%s: %v", EnvAMQPURL, err)
	}
	host := u.Host
	if u.Port() == "" {
		host += ":5672"
	}
	p, err := faultproxy.Start(host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	u.Host = p.Addr()
	return p, u.String()
}

// Ready returns the number of messages ready in q.
func Ready(t testing.TB, ch *amqp.Channel, q string) int {
	t.Helper()
	st, err := ch.QueueDeclarePassive(q, true, false, false, false, nil)
	if err != nil {
		t.Fatalf("queue %s: %v", q, err)
	}
	return st.Messages
}

// brokerPatience bounds every wait for the broker: requeueing the
// deliveries of a closed connection, settling acks. Generous, for a loaded
// machine; a wait that succeeds returns at once.
const brokerPatience = 60 * time.Second

// WaitReady waits until q holds exactly want ready messages (acks and
// requeues reach a queue asynchronously) and fails t if it does not.
func WaitReady(t testing.TB, ch *amqp.Channel, q string, want int) {
	t.Helper()
	if !WaitFor(brokerPatience, func() bool { return Ready(t, ch, q) == want }) {
		t.Fatalf("queue %s holds %d ready messages after %v, want %d", q, Ready(t, ch, q), brokerPatience, want)
	}
}

// WaitUnconsumed waits until q has no consumer. Once the broker has taken
// a consumer off a queue, it has put that consumer's unacknowledged
// deliveries back: what was in flight is ready again, and Drain sees it.
func WaitUnconsumed(t testing.TB, ch *amqp.Channel, q string) {
	t.Helper()
	consumers := func() int {
		st, err := ch.QueueDeclarePassive(q, true, false, false, false, nil)
		if err != nil {
			t.Fatalf("queue %s: %v", q, err)
		}
		return st.Consumers
	}
	if !WaitFor(brokerPatience, func() bool { return consumers() == 0 }) {
		t.Fatalf("queue %s still has %d consumers after %v", q, consumers(), brokerPatience)
	}
}

// Drain takes every message ready in q, acknowledged, and returns them in
// queue order. It consumes on a connection of its own, in rounds of at most
// drainRound messages with the prefetch window set to the round, so that it
// is never handed more than it takes.
func Drain(t testing.TB, ch *amqp.Channel, q string) []amqp.Delivery {
	t.Helper()
	n := Ready(t, ch, q)
	if n == 0 {
		return nil
	}
	conn, err := dialBroker()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var all []amqp.Delivery
	for len(all) < n {
		ds, err := drainOnce(conn, q, min(n-len(all), drainRound))
		if err != nil {
			t.Fatalf("draining %s (%d of %d taken): %v", q, len(all), n, err)
		}
		all = append(all, ds...)
	}
	return all
}

const drainRound = 10000

func drainOnce(conn *amqp.Connection, q string, k int) ([]amqp.Delivery, error) {
	ch, err := conn.Channel()
	if err != nil {
		return nil, err
	}
	defer ch.Close()
	if err := ch.Qos(k, 0, false); err != nil {
		return nil, err
	}
	in, err := ch.Consume(q, "testenv-drain", false, true, false, false, nil)
	if err != nil {
		return nil, err
	}
	timeout := time.NewTimer(brokerPatience)
	defer timeout.Stop()
	ds := make([]amqp.Delivery, 0, k)
	for len(ds) < k {
		select {
		case d, ok := <-in:
			if !ok {
				return nil, errors.New("the channel closed")
			}
			ds = append(ds, d)
		case <-timeout.C:
			return nil, fmt.Errorf("only %d of %d ready messages came within %v", len(ds), k, brokerPatience)
		}
	}
	// The window is full: nothing more comes before the ack, and the
	// consumer is gone by then.
	if err := ch.Cancel("testenv-drain", false); err != nil {
		return nil, err
	}
	return ds, ds[k-1].Ack(true)
}
