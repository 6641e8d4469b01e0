package amqpsend

import (
	"context"
	"errors"
	"io"
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

func TestLineMessage(t *testing.T) {
	in := "a\n\n" + strings.Repeat("x", 300) + "\n" + strings.Repeat("y", 301) + "\n" + env("e-1") + "\nlast"
	feed := lines.NewFeed(lines.NewReader(strings.NewReader(in), 300), 1<<20)
	defer feed.Close()
	var got []string
	var bad []*LineError
	for {
		l, err := feed.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		m, lerr := LineMessage(l, "p-")
		if lerr != nil {
			bad = append(bad, lerr)
			continue
		}
		got = append(got, m.MessageID+"="+string(m.Body[:min(len(m.Body), 4)]))
	}
	want := "p-1=a p-3=xxxx e-1={\"id p-6=last"
	if strings.Join(got, " ") != want {
		t.Fatalf("got %q, want %q", strings.Join(got, " "), want)
	}
	if len(bad) != 2 || bad[0].Line != 2 || !errors.Is(bad[0], ErrEmpty) || bad[1].Line != 4 {
		t.Fatalf("bad = %v", bad)
	}
	if _, ok := errors.AsType[*lines.TooLongError](bad[1]); !ok {
		t.Fatalf("%v is not a *lines.TooLongError", bad[1])
	}
	if got, want := bad[1].Error(), "line 4: longer than the 300-byte message limit: not sent"; got != want {
		t.Fatalf("got %q, want %q", got, want)
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
