package amqprecv

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

func runSh(t *testing.T, ctx, work context.Context, opt ExecOptions, stdin string) (runResult, string) {
	t.Helper()
	var out bytes.Buffer
	opt.Stdout, opt.Stderr = &out, &out
	if opt.KillDelay == 0 {
		opt.KillDelay = DefaultKillDelay
	}
	res := runCommand(ctx, work, &opt, strings.NewReader(stdin))
	if res.err != nil {
		t.Fatal(res.err)
	}
	return res, out.String()
}

func TestRunCommandStatus(t *testing.T) {
	bg := context.Background()
	for cmd, want := range map[string]int{
		"cat":            0,
		"exit 3":         3,
		"kill -TERM $$":  128 + int(syscall.SIGTERM),
		"no-such-cmd-x":  127,
		"cat; exit 0":    0,
		"read l; exit 1": 1,
	} {
		res, _ := runSh(t, bg, bg, ExecOptions{Command: cmd}, "a\nb\n")
		if res.status != want || res.timedOut || res.stopped {
			t.Errorf("%q: %+v, want status %d", cmd, res, want)
		}
	}
	res, out := runSh(t, bg, bg, ExecOptions{Command: "tr a-z A-Z"}, "abc\n")
	if res.status != 0 || out != "ABC\n" {
		t.Fatalf("%+v %q", res, out)
	}
}

func TestRunCommandFinishesWithinGrace(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	stop() // the signal came; work (the grace) goes on
	// The command waits for the word that it may finish, which Stopping gives.
	goOn := filepath.Join(t.TempDir(), "go-on")
	res, out := runSh(t, ctx, context.Background(), ExecOptions{
		Command:  "cat; while [ ! -e " + goOn + " ]; do sleep 0.01; done",
		Stopping: func() { os.WriteFile(goOn, nil, 0o666) },
	}, "x\n")
	if res.stopped || res.status != 0 || out != "x\n" {
		t.Fatalf("%+v %q", res, out)
	}
}

func TestFailing(t *testing.T) {
	d := func(id, body string) *Delivery {
		return &Delivery{Delivery: amqp.Delivery{MessageId: id, Body: []byte(body)}}
	}
	a, b, c := d("1", "a"), d("2", "b"), d("", "c")
	var nilF *failing
	if nilF.failedRun([]*Delivery{a}) {
		t.Fatal("a nil tracker gave up")
	}
	nilF.settled([]*Delivery{a})

	f := &failing{failed: map[messageKey]struct{}{}}
	// New messages never count: every message gets tried.
	for _, batch := range [][]*Delivery{{a, b}, {c}} {
		if f.failedRun(batch) {
			t.Fatal("gave up on messages that had not failed before")
		}
	}
	// A batch with one new message does not count either.
	if f.failedRun([]*Delivery{a, d("2", "b2")}) || f.repeats != 0 {
		t.Fatalf("repeats %d", f.repeats)
	}
	if f.failedRun([]*Delivery{a, b}) || f.failedRun([]*Delivery{c}) || f.repeats != 2 {
		t.Fatalf("repeats %d", f.repeats)
	}
	// A success starts again, and its messages are settled.
	f.settled([]*Delivery{c})
	if f.runs != 0 || f.repeats != 0 || len(f.failed) != 3 {
		t.Fatalf("%+v", f)
	}
	for i := 1; i <= DrainGiveUp; i++ {
		if got := f.failedRun([]*Delivery{a}); got != (i == DrainGiveUp) {
			t.Fatalf("run %d: give up = %v", i, got)
		}
	}
	want := "only failing messages are left: the last 3 runs failed, 3 of them on messages that had all failed before; the 3 messages that failed are back in the queue"
	if got := f.err().Error(); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	// The same body under another message-id is another message.
	if keyOf(d("x", "a")) == keyOf(a) || keyOf(d("1", "a")) != keyOf(a) || keyOf(d("1a", "")) == keyOf(d("1", "a")) {
		t.Fatal("keys")
	}
}

// A drain waits for the messages it requeued to come back before it
// believes an empty queue (a quorum queue requeues asynchronously).
func TestFailingReturning(t *testing.T) {
	d := func(id, body string) *Delivery {
		return &Delivery{Delivery: amqp.Delivery{MessageId: id, Body: []byte(body)}}
	}
	a, b := d("1", "a"), d("2", "b")
	var nilF *failing
	nilF.delivered(a)
	f := &failing{failed: map[messageKey]struct{}{}}
	if f.returning() {
		t.Fatal("returning before any failure")
	}
	f.failedRun([]*Delivery{a, b})
	if !f.returning() {
		t.Fatal("requeued messages are not on their way back")
	}
	f.delivered(a)
	if !f.returning() {
		t.Fatal("b is still away")
	}
	f.delivered(b)
	if f.returning() {
		t.Fatal("both came back")
	}
}
