package amqpsend

import (
	"errors"
	"strings"
	"testing"

	"github.com/hms-toolkit/hms/pkg/lines"
)

// env is a well-formed envelope with the given id (its signature is of the
// right form, not verified).
func env(id string) string {
	return `{"id":"` + id + `","ts":"2026-11-26T12:00:00Z","origin":"o","operation":"create","data":{},"kid":"k","signature":"` +
		strings.Repeat("ab", 32) + `"}`
}

func TestReadLines(t *testing.T) {
	in := "a\n\n" + strings.Repeat("x", 200) + "\n" + strings.Repeat("y", 201) + "\n" + env("e-1") + "\nlast"
	out := make(chan Message, 100)
	var bad []*LineError
	if err := ReadLines(strings.NewReader(in), 300, "p-", out, func(e *LineError) { bad = append(bad, e) }, nil); err != nil {
		t.Fatal(err)
	}
	var got []string
	for m := range out {
		got = append(got, m.MessageID+"="+string(m.Body[:min(len(m.Body), 4)]))
	}
	want := "p-1=a p-3=xxxx p-4=yyyy e-1={\"id p-6=last"
	if strings.Join(got, " ") != want {
		t.Fatalf("got %q, want %q", strings.Join(got, " "), want)
	}
	if len(bad) != 1 || bad[0].Line != 2 || !errors.Is(bad[0], ErrEmpty) {
		t.Fatalf("bad = %v", bad)
	}
}

func TestReadLinesLong(t *testing.T) {
	// Lines much longer than a read, at and over the limit.
	const max = 1 << 20
	in := strings.Repeat("a", max) + "\n" + strings.Repeat("b", max+1) + "\nok\n" + strings.Repeat("c", max+1)
	out := make(chan Message, 10)
	var bad []*LineError
	if err := ReadLines(strings.NewReader(in), max, "", out, func(e *LineError) { bad = append(bad, e) }, nil); err != nil {
		t.Fatal(err)
	}
	var lens []int
	for m := range out {
		lens = append(lens, len(m.Body))
	}
	if len(lens) != 2 || lens[0] != max || lens[1] != 2 || len(bad) != 2 || bad[0].Line != 2 || bad[1].Line != 4 {
		t.Fatalf("lens %v bad %v", lens, bad)
	}
	if _, ok := errors.AsType[*lines.TooLongError](bad[0]); !ok {
		t.Fatalf("%v is not a *lines.TooLongError", bad[0])
	}
	if got, want := bad[0].Error(), "line 2: longer than the 1048576-byte message limit: not sent"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestReadLinesStops(t *testing.T) {
	out := make(chan Message) // nobody reads it
	done := make(chan struct{})
	close(done)
	if err := ReadLines(strings.NewReader("a\nb\n"), 10, "", out, nil, done); err != errStopped {
		t.Fatal(err)
	}
	if _, ok := <-out; ok {
		t.Fatal("a line came after done")
	}
}

func TestEnvelopeID(t *testing.T) {
	for in, want := range map[string]string{
		env("abc"): "abc",
		// Only a whole envelope lends its id: any other JSON with an "id"
		// would let two different bodies share one message-id.
		`{"id":"dup","x":1}`:           "",
		`{"id":"abc","operation":"x"}`: "",
		`{"id":42}`:                    "",
		`{"id":null}`:                  "",
		`plain "id" text`:              "",
		env("abc")[:20]:                "",
		// Ids an envelope cannot have: a newline, a space, over 128 bytes.
		strings.Replace(env("x"), `"x"`, `"a\nb"`, 1): "",
		env("a b"):                    "",
		env(strings.Repeat("z", 129)): "",
		env(strings.Repeat("z", 128)): strings.Repeat("z", 128),
		// A duplicate member is not well-formed.
		strings.Replace(env("x"), `"kid":"k"`, `"kid":"k","kid":"k"`, 1): "",
	} {
		if got := EnvelopeID([]byte(in)); got != want {
			t.Errorf("EnvelopeID(%s) = %q, want %q", in, got, want)
		}
	}
}
