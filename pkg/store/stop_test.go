package store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/hms-toolkit/hms/pkg/devdb/devdbtest"
	"github.com/hms-toolkit/hms/pkg/faultproxy"
	"github.com/hms-toolkit/hms/pkg/store"
)

// A load stopped while its input blocks returns at once: what it read is
// stored, and it says where the input stopped.
func TestLoadStopWhileReadBlocks(t *testing.T) {
	c := testClient(t)
	pr, pw := io.Pipe()
	defer pw.Close()
	stop := make(chan struct{})
	progress := make(chan store.Stats, 10)
	done := make(chan result, 1)
	go func() {
		st, err := c.Load(context.Background(), pr, store.LoadOptions{Collection: "blk", Stop: stop,
			Progress: func(s store.Stats) { progress <- s }})
		done <- result{stats: st, err: err}
	}()
	pw.Write([]byte("{\"a\":1}\n\n{\"a\":2}\n{\"a\":3}\n"))
	for s := range progress {
		if s.Inserted == 3 {
			break
		}
	}
	close(stop) // the loader's reader is now blocked in Read
	r := waitResult(t, done)
	want := store.Stats{Read: 3, Inserted: 3, LastLine: 4}
	if !errors.Is(r.err, store.ErrStopped) || r.stats != want {
		t.Fatalf("%+v, %v; want %+v, ErrStopped", r.stats, r.err, want)
	}
}

func waitResult(t *testing.T, done <-chan result) result {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("Load did not return")
	}
	panic("unreachable")
}

// proxied returns a client of a private dev server through a fault proxy.
// The driver's heartbeat is made rare, so that the bytes the proxy holds
// while stalled are a write's (or the watchdog's, which asks only while a
// write is in flight).
func proxied(t *testing.T, db string, connectTimeout, retryFor time.Duration) (*store.Client, *faultproxy.Proxy, string) {
	srv := devdbtest.Server(t)
	p, err := faultproxy.Start(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	c, err := store.Connect(context.Background(), store.Options{
		URI: "mongodb://" + p.Addr() + "/?heartbeatFrequencyMS=60000", DB: db,
		ConnectTimeout: connectTimeout, RetryFor: retryFor})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c, p, srv.URI()
}

// waitHeld waits until the stalled proxy holds bytes: a write in flight.
func waitHeld(t *testing.T, p *faultproxy.Proxy) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); p.Held() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no write reached the proxy")
		}
	}
}

// A write cut short (the grace ran out while the server was silent) is
// reported line by line, with the lines' text: they may be stored. Storing
// them again completes the job, nothing lost, nothing doubled.
func TestLoadStopCutsWriteShort(t *testing.T) {
	c, p, uri := proxied(t, "cut", 10*time.Second, time.Minute)
	pr, pw := io.Pipe()
	defer pw.Close()
	stop := make(chan struct{})
	work, cutShort := context.WithCancel(context.Background())
	progress := make(chan store.Stats, 10)
	var notStored []string
	done := make(chan result, 1)
	go func() {
		st, err := c.Load(work, pr, store.LoadOptions{Collection: "c", Stop: stop, KeepText: true, Batch: 10,
			Progress: func(s store.Stats) { progress <- s },
			Report: func(e store.LineError) {
				if e.Outcome == store.NotStored {
					notStored = append(notStored, string(e.Text))
				}
			}})
		done <- result{stats: st, err: err}
	}()
	var lines []string
	for i := range 20 {
		lines = append(lines, fmt.Sprintf(`{"i":%d}`, i))
	}
	pw.Write([]byte(strings.Join(lines[:10], "\n") + "\n"))
	if s := <-progress; s.Inserted != 10 {
		t.Fatalf("first batch: %+v", s)
	}
	p.Stall()
	pw.Write([]byte(strings.Join(lines[10:], "\n") + "\n"))
	waitHeld(t, p)
	close(stop)
	cutShort()
	r := waitResult(t, done)
	want := store.Stats{Read: 20, Inserted: 10, NotStored: 10, MaybeStored: 10, FirstNotStored: 11, LastLine: 20}
	if !errors.Is(r.err, context.Canceled) || r.stats != want {
		t.Errorf("%+v, %v; want %+v, context.Canceled", r.stats, r.err, want)
	}
	if !slices.Equal(notStored, lines[10:]) {
		t.Errorf("reported not stored: %q", notStored)
	}
	p.Resume()
	direct := connect(t, uri, "cut", time.Minute)
	again := load(t, direct, strings.Join(notStored, "\n"), store.LoadOptions{Collection: "c"})
	if again.err != nil || again.stats.Inserted+again.stats.Present != 10 {
		t.Fatalf("again: %+v %v", again.stats, again.err)
	}
	if n, err := direct.Collection("c").CountDocuments(context.Background(), bson.D{}); err != nil || n != 20 {
		t.Fatalf("%d documents (%v), want 20", n, err)
	}
}

// A server that stops answering (a stopped process) is given up on after
// ConnectTimeout + RetryFor, and the error says so: never "interrupted".
func TestLoadSilentServerGivesUp(t *testing.T) {
	c, p, _ := proxied(t, "silent", 500*time.Millisecond, time.Second)
	p.Stall()
	start := time.Now()
	st, err := c.Load(context.Background(), strings.NewReader("{\"a\":1}\n{\"a\":2}\n"), store.LoadOptions{Collection: "s"})
	took := time.Since(start)
	if !errors.Is(err, store.ErrGaveUp) || !errors.Is(err, store.ErrNotAnswering) || errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want ErrGaveUp and ErrNotAnswering", err)
	}
	if !strings.Contains(err.Error(), "gave up retrying after 1s: the server stopped answering: no reply for") {
		t.Errorf("message %q", err)
	}
	if took > 10*time.Second {
		t.Errorf("took %v for 0.5s + 1s", took)
	}
	if st.NotStored != 2 || st.FirstNotStored != 1 || !st.AtEOF {
		t.Errorf("stats %+v", st)
	}
}

// Find is not hung by a server that stops answering between two batches of
// its cursor.
func TestFindSilentServer(t *testing.T) {
	c, p, _ := proxied(t, "find", 500*time.Millisecond, time.Second)
	var in strings.Builder
	for i := range 300 {
		fmt.Fprintf(&in, "{\"i\":%d}\n", i)
	}
	if r := load(t, c, in.String(), store.LoadOptions{Collection: "f"}); r.err != nil {
		t.Fatal(r.err)
	}
	n, err := c.Find(context.Background(), store.Query{Collection: "f"}, func([]byte) error {
		p.Stall() // after the first document: the next batch is not coming
		return nil
	})
	if !errors.Is(err, store.ErrNotAnswering) || n == 0 || n == 300 {
		t.Fatalf("%d documents, error %v; want some, then ErrNotAnswering", n, err)
	}
}

// A slow operation on a server that still answers is not cut short.
func TestGuardLetsSlowWorkFinish(t *testing.T) {
	c, err := store.Connect(context.Background(), store.Options{URI: devdbtest.URI(t), ConnectTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	err = c.Retry(context.Background(), func(ctx context.Context) error {
		select {
		case <-time.After(time.Second): // five times the silence allowed
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
}
