package amqpsend

import (
	"errors"
	"strings"
	"testing"
)

func TestReadLines(t *testing.T) {
	in := "a\n\n" + strings.Repeat("x", 200) + "\n" + strings.Repeat("y", 201) + "\n" +
		`{"id":"e-1","ts":"2026","origin":"o","operation":"create","data":{},"kid":"k","signature":"s"}` + "\nlast"
	out := make(chan Message, 100)
	var bad []*LineError
	if err := ReadLines(strings.NewReader(in), 200, "p-", out, func(e *LineError) { bad = append(bad, e) }, nil); err != nil {
		t.Fatal(err)
	}
	var got []string
	for m := range out {
		got = append(got, m.MessageID+"="+string(m.Body[:min(len(m.Body), 4)]))
	}
	want := "p-1=a p-3=xxxx e-1={\"id p-6=last"
	if strings.Join(got, " ") != want {
		t.Fatalf("got %q, want %q", strings.Join(got, " "), want)
	}
	if len(bad) != 2 || bad[0].Line != 2 || !errors.Is(bad[0], ErrEmpty) || bad[1].Line != 4 {
		t.Fatalf("bad = %v", bad)
	}
}

func TestReadLinesLong(t *testing.T) {
	// Lines much longer than the read buffer, at and over the limit.
	const max = 1 << 20
	in := strings.Repeat("a", max) + "\n" + strings.Repeat("b", max+1) + "\nok\n" + strings.Repeat("c", max+1)
	out := make(chan Message, 10)
	var bad []int64
	if err := ReadLines(strings.NewReader(in), max, "", out, func(e *LineError) { bad = append(bad, e.Line) }, nil); err != nil {
		t.Fatal(err)
	}
	var lens []int
	for m := range out {
		lens = append(lens, len(m.Body))
	}
	if len(lens) != 2 || lens[0] != max || lens[1] != 2 || len(bad) != 2 || bad[0] != 2 || bad[1] != 4 {
		t.Fatalf("lens %v bad %v", lens, bad)
	}
}

func TestEnvelopeID(t *testing.T) {
	for in, want := range map[string]string{
		`{"id":"abc","operation":"x"}`: "abc",
		`{"id":42}`:                    "42",
		`{"id":null}`:                  "",
		`{"idx":"a"}`:                  "",
		`plain "id" text`:              "",
		`{"id":"a"`:                    "",
		// Too long for AMQP's message-id: the line number stands in.
		`{"id":"` + strings.Repeat("z", 256) + `"}`: "",
		`{"id":"` + strings.Repeat("z", 255) + `"}`: strings.Repeat("z", 255),
	} {
		if got := EnvelopeID([]byte(in)); got != want {
			t.Errorf("EnvelopeID(%s) = %q, want %q", in, got, want)
		}
	}
}
