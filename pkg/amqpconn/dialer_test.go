package amqpconn_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hms-toolkit/hms/internal/testenv"
	"github.com/hms-toolkit/hms/pkg/amqpconn"
	"github.com/hms-toolkit/hms/pkg/faultproxy"
)

// refusedURL is an AMQP URL on a port that refuses connections: a socket
// bound to it and not listening, held until the test ends. (A listener
// opened and closed at once left its port free for any other test running
// meanwhile to take: TestDialerGivesUp then met a server that answered
// nothing and waited out the 5s timeout of each node.)
func refusedURL(t *testing.T) string {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("amqp://guest:guest@127.0.0.1:%d/", sa.(*syscall.SockaddrInet4).Port)
}

// hangUpURL returns an AMQP URL whose listener accepts every connection
// and closes it at once (a node shutting down), and the listener, which
// counts them: a proxy to a port that refuses.
func hangUpURL(t *testing.T) (string, *faultproxy.Proxy) {
	u, _ := url.Parse(refusedURL(t))
	p, err := faultproxy.Start(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	u.Host = p.Addr()
	return u.String(), p
}

// newDialer returns a dialer of urls, its stats and its logs, which the
// tests read once Connect returned (no connection here is ever blocked, so
// the goroutine watching for blocks logs nothing).
func newDialer(t *testing.T, retryFor time.Duration, urls ...string) (*amqpconn.Dialer, *amqpconn.Stats, *bytes.Buffer) {
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	st := &amqpconn.Stats{}
	return amqpconn.NewDialer(amqpconn.Config{URLs: urls, Timeout: 5 * time.Second}, retryFor, log, st), st, logs
}

func noSetup(*amqp.Connection) error { return nil }

func connect(t *testing.T, d *amqpconn.Dialer) *amqpconn.Conn {
	t.Helper()
	c, err := d.Connect(context.Background(), noSetup)
	if err != nil {
		t.Fatalf("RabbitMQ is needed at %s: %v", amqpconn.Redact(testenv.AMQPURL()), err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// After a connection is lost, the next node is tried first, in order,
// wrapping around: the node that went away is not the first one retried.
func TestDialerFailsOverInOrder(t *testing.T) {
	var ps [3]*faultproxy.Proxy
	var urls []string
	for i := range ps {
		p, u := testenv.AMQPProxy(t)
		ps[i] = p
		urls = append(urls, u)
	}
	d, st, logs := newDialer(t, 5*time.Second, urls...)
	if i, u := st.Node(); i != -1 || u != "" {
		t.Fatalf("Node before connecting: %d %q", i, u)
	}
	for _, want := range []int{0, 1, 2, 0} {
		c := connect(t, d)
		if c.Node != want {
			t.Fatalf("connected to node %d, want %d", c.Node, want)
		}
		if i, u := st.Node(); i != want || u != amqpconn.Redact(urls[want]) {
			t.Fatalf("amqpconn.Stats.Node() = %d %q, want %d", i, u, want)
		}
		ps[want].CutAll() // the node goes away; it would take us back at once
		c.Close()
	}
	if n := st.Reconnects.Load(); n != 3 {
		t.Fatalf("Reconnects = %d, want 3", n)
	}
	if strings.Contains(logs.String(), "guest:guest") {
		t.Fatalf("password in the logs:\n%s", logs)
	}
	if !strings.Contains(logs.String(), "node=amqp://guest:xxxxx@"+ps[2].Addr()) {
		t.Fatalf("the logs do not name the node:\n%s", logs)
	}
}

// Nodes that refuse connections are passed over in the same round,
// without a wait; each is logged.
func TestDialerSkipsDeadNodes(t *testing.T) {
	_, good := testenv.AMQPProxy(t)
	d, _, logs := newDialer(t, 5*time.Second, refusedURL(t), refusedURL(t), good)
	start := time.Now()
	c := connect(t, d)
	if c.Node != 2 {
		t.Fatalf("connected to node %d, want 2", c.Node)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("took %v to get past two refusing nodes", el)
	}
	if n := strings.Count(logs.String(), "trying the next node"); n != 2 {
		t.Fatalf("%d 'trying the next node' warnings, want 2:\n%s", n, logs)
	}
}

// When no node takes the connection, the dialer waits between rounds (no
// hammering) and gives up after RetryFor, naming each node's error.
func TestDialerGivesUp(t *testing.T) {
	u1, a := hangUpURL(t)
	u2, b := hangUpURL(t)
	d, _, logs := newDialer(t, 700*time.Millisecond, u1, u2)
	start := time.Now()
	_, err := d.Connect(context.Background(), noSetup)
	el := time.Since(start)
	if !errors.Is(err, amqpconn.ErrGaveUp) {
		t.Fatalf("err = %v, want amqpconn.ErrGaveUp", err)
	}
	if el < 700*time.Millisecond || el > 3*time.Second {
		t.Fatalf("gave up after %v, want about 700ms", el)
	}
	for _, u := range []string{u1, u2} {
		if !strings.Contains(err.Error(), amqpconn.Redact(u)) {
			t.Errorf("error does not name %s: %v", amqpconn.Redact(u), err)
		}
	}
	// Waits of 50-100ms, 100-200ms, 200-400ms...: a handful of rounds.
	if a.Accepted() > 6 || b.Accepted() > 6 || a.Accepted() < 2 {
		t.Fatalf("%d and %d attempts in 700ms", a.Accepted(), b.Accepted())
	}
	if !strings.Contains(logs.String(), "cannot connect to any of the 2 nodes, retrying") {
		t.Fatalf("logs:\n%s", logs)
	}
}

// With RetryFor 0 each node is tried once.
func TestDialerNoRetry(t *testing.T) {
	u, a := hangUpURL(t)
	d, _, _ := newDialer(t, 0, u, refusedURL(t))
	if _, err := d.Connect(context.Background(), noSetup); !errors.Is(err, amqpconn.ErrGaveUp) {
		t.Fatalf("err = %v", err)
	}
	if a.Accepted() != 1 {
		t.Fatalf("%d attempts on node 0, want 1", a.Accepted())
	}
}

// A setup error retrying cannot fix ends Connect at once: every node of a
// cluster would answer the same.
func TestDialerPermanentSetupError(t *testing.T) {
	_, u1 := testenv.AMQPProxy(t)
	p2, u2 := testenv.AMQPProxy(t)
	d, _, _ := newDialer(t, 5*time.Second, u1, u2)
	want := &amqpconn.Permanent{Err: errors.New("inequivalent arguments")}
	_, err := d.Connect(context.Background(), func(*amqp.Connection) error { return want })
	if !errors.Is(err, want) {
		t.Fatalf("err = %v", err)
	}
	if p2.Accepted() != 0 {
		t.Fatal("the second node was tried after a permanent setup error")
	}
}

// A node that refuses the credentials is passed over when another remains;
// when every node does, the error comes at once.
func TestDialerPermanentDialError(t *testing.T) {
	_, good := testenv.AMQPProxy(t)
	spoil := func(raw string) string {
		u, _ := url.Parse(raw)
		u.User = url.UserPassword("hms-no-such-user", "wrong")
		return u.String()
	}
	p1, bad1 := testenv.AMQPProxy(t)
	d, _, _ := newDialer(t, 5*time.Second, spoil(bad1), good)
	if c := connect(t, d); c.Node != 1 {
		t.Fatalf("connected to node %d, want 1", c.Node)
	}
	p2, bad2 := testenv.AMQPProxy(t)
	d, _, _ = newDialer(t, 5*time.Second, spoil(bad1), spoil(bad2))
	_, err := d.Connect(context.Background(), noSetup)
	if !amqpconn.IsPermanent(err) || !strings.Contains(err.Error(), "access refused") {
		t.Fatalf("err = %v", err)
	}
	// The broker answers a bad password only after a few seconds: count.
	if p1.Accepted() != 2 || p2.Accepted() != 1 {
		t.Fatalf("%d and %d attempts, want one per Connect", p1.Accepted(), p2.Accepted())
	}
}

// A cancelled context ends the wait between rounds.
func TestDialerInterrupted(t *testing.T) {
	d, _, _ := newDialer(t, time.Minute, refusedURL(t))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := d.Connect(ctx, noSetup)
	if !errors.Is(err, amqpconn.ErrGaveUp) || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 6*time.Second {
		t.Fatalf("interrupted after %v", time.Since(start))
	}
}
