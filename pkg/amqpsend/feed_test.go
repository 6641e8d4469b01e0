package amqpsend_test

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hms-toolkit/hms/internal/testenv"
	"github.com/hms-toolkit/hms/pkg/amqpconn"
	"github.com/hms-toolkit/hms/pkg/amqpsend"
	"github.com/hms-toolkit/hms/pkg/faultproxy"
)

// These tests need the test broker (testenv.AMQPURL), reached through a
// proxy that can hold back what goes through it (faultproxy.Stall), so that
// messages stay in flight, unconfirmed, for as long as a test wants.

func startProxy(t *testing.T) (*faultproxy.Proxy, string) {
	testenv.Channel(t) // fails the test when no broker answers
	u, err := url.Parse(testenv.AMQPURL())
	if err != nil {
		t.Fatal(err)
	}
	target := u.Host
	if u.Port() == "" {
		target += ":5672"
	}
	p, err := faultproxy.Start(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Resume(); p.Close() })
	u.Host = p.Addr()
	return p, u.String()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !testenv.WaitFor(time.Minute, cond) {
		t.Fatalf("%s: not within a minute", what)
	}
}

// publisher returns a publisher to a fresh queue through a stall proxy.
func publisher(t *testing.T) (*amqpsend.Publisher, *faultproxy.Proxy) {
	proxy, u := startProxy(t)
	p := amqpsend.New(amqpsend.Config{Conn: amqpconn.Config{URLs: []string{u}}, Queue: amqpconn.Queue{Name: testenv.Queue(t)}})
	return p, proxy
}

type feedRunResult struct {
	res    *amqpsend.Result
	failed string
}

// publishAsync runs Publish on in, with ctx and work its two contexts.
func publishAsync(p *amqpsend.Publisher, ctx, work context.Context, in io.Reader, stats *amqpsend.FeedStats) <-chan feedRunResult {
	done := make(chan feedRunResult, 1)
	go func() {
		var failed bytes.Buffer
		res := p.Publish(ctx, work, amqpsend.Feed{In: in, RunID: "run", Failed: &failed}, stats)
		done <- feedRunResult{res, failed.String()}
	}()
	return done
}

// A signal before the end of the input: reading stops, what was read is
// confirmed, and the run is Stopped after the last line read.
func TestPublishStoppedMidInput(t *testing.T) {
	p, _ := publisher(t)
	in, w := io.Pipe()
	defer w.Close()
	ctx, stop := context.WithCancel(context.Background())
	done := publishAsync(p, ctx, context.Background(), in, nil)
	io.WriteString(w, "a\nb\n\nc\n")
	waitFor(t, "3 confirms", func() bool { return p.Stats.Confirmed.Load() == 3 })
	stop()
	r := <-done
	res := r.res
	if !res.Stopped || res.InputDone || res.LastRead != 4 || res.Confirmed != 3 || res.Failed != 0 || res.Skipped != 1 || r.failed != "" {
		t.Fatalf("%+v, failed %q", res, r.failed)
	}
}

// A signal that comes when every line was read, while the last confirms are
// on their way: they arrive within the grace, and the run is not Stopped.
func TestPublishSignalAfterTheEnd(t *testing.T) {
	p, proxy := publisher(t)
	ctx, stop := context.WithCancel(context.Background())
	in, w := io.Pipe()
	var stats amqpsend.FeedStats
	done := publishAsync(p, ctx, context.Background(), in, &stats)
	waitFor(t, "connected", p.Stats.Connected.Load)
	proxy.Stall()
	io.WriteString(w, "a\nb\nc\n")
	w.Close()
	waitFor(t, "the end of the input", stats.EOF.Load)
	waitFor(t, "3 published", func() bool { return p.Stats.Published.Load() == 3 })
	stop()
	proxy.Resume()
	res := (<-done).res
	if res.Stopped || !res.InputDone || res.Confirmed != 3 || !res.AllHandled() {
		t.Fatalf("%+v", res)
	}
}

// The grace runs out with messages in flight: they fail as not sent, go to
// Failed, and the rerun starts at the first of them.
func TestPublishGraceOver(t *testing.T) {
	p, proxy := publisher(t)
	ctx, stop := context.WithCancel(context.Background())
	work, cut := context.WithCancel(context.Background())
	in, w := io.Pipe()
	defer w.Close()
	var stats amqpsend.FeedStats
	done := publishAsync(p, ctx, work, in, &stats)
	io.WriteString(w, "a\n")
	waitFor(t, "1 confirm", func() bool { return p.Stats.Confirmed.Load() == 1 })
	proxy.Stall()
	io.WriteString(w, "b\nc\n")
	waitFor(t, "3 published", func() bool { return p.Stats.Published.Load() == 3 })
	stop()
	cut()
	waitFor(t, "2 not sent", func() bool { return stats.NotSent.Load() == 2 })
	proxy.Resume()
	r := <-done
	res := r.res
	if !res.Stopped || res.InputDone || res.Confirmed != 1 || res.Failed != 2 || res.FirstNotSent != 2 || res.LastRead != 3 || r.failed != "b\nc\n" {
		t.Fatalf("%+v, failed %q", res, r.failed)
	}
}

// Without a signal, a whole input is published and confirmed.
func TestPublishAll(t *testing.T) {
	p, _ := publisher(t)
	var stats amqpsend.FeedStats
	in := strings.Repeat("line\n", 1000) + "\n" + strings.Repeat("x", 20) + "\nlast"
	res := p.Publish(context.Background(), context.Background(), amqpsend.Feed{In: strings.NewReader(in), MaxSize: 10}, &stats)
	if !res.InputDone || res.Stopped || res.Read != 1003 || res.Confirmed != 1001 || res.Skipped != 1 || res.Rejected != 1 || res.AllHandled() {
		t.Fatalf("%+v", res)
	}
	if !strings.HasPrefix(res.Summary(), "read 1003 lines, confirmed 1001, failed 0, rejected 1, skipped 1 empty; 0 republished after 0 reconnects, ") {
		t.Fatal(res.Summary())
	}
}
