package lines

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReader(t *testing.T) {
	long := strings.Repeat("x", 100)
	in := "a\n\n" + long + "\nbb\r\n" + long + long + "\nlast"
	r := NewReader(strings.NewReader(in), 20)
	type res struct {
		line string
		n    int64
		tl   int64
	}
	var got []res
	for {
		l, err := r.Next()
		if err == io.EOF {
			break
		}
		var tl *TooLongError
		if errors.As(err, &tl) {
			got = append(got, res{"", r.Line(), tl.Len})
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, res{string(l), r.Line(), 0})
	}
	want := []res{{"a", 1, 0}, {"", 2, 0}, {"", 3, 100}, {"bb\r", 4, 0}, {"", 5, 200}, {"last", 6, 0}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%d: got %v, want %v", i, got[i], want[i])
		}
	}
}

func TestTooLongAtEOF(t *testing.T) {
	r := NewReader(strings.NewReader(strings.Repeat("y", 50)), 20)
	_, err := r.Next()
	var tl *TooLongError
	if !errors.As(err, &tl) || tl.Len != 50 {
		t.Fatalf("err %v", err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("err %v, want EOF", err)
	}
}

type countingFlusher struct{ n int }

func (f *countingFlusher) Flush() error { f.n++; return nil }

// FlushBeforeRead flushes before every read of the source and not between
// lines already buffered.
func TestFlushBeforeRead(t *testing.T) {
	f := &countingFlusher{}
	r := NewReader(FlushBeforeRead(strings.NewReader("a\nb\nc\n"), f), 100)
	line, err := r.Next()
	if err != nil || string(line) != "a" || f.n != 1 {
		t.Fatalf("first line %q, %v, flushes %d; want a, nil, 1", line, err, f.n)
	}
	r.Next()
	r.Next()
	if f.n != 1 {
		t.Fatalf("%d flushes while lines were buffered, want 1", f.n)
	}
	if _, err := r.Next(); err != io.EOF || f.n != 2 {
		t.Fatalf("at the end: %v, flushes %d; want EOF, 2", err, f.n)
	}
}

type failingFlusher struct{ err error }

func (f failingFlusher) Flush() error { return f.err }

// A failed flush is told apart from a failed read.
func TestFlushBeforeReadError(t *testing.T) {
	full := errors.New("no space left on device")
	r := NewReader(FlushBeforeRead(strings.NewReader("a\n"), failingFlusher{full}), 100)
	_, err := r.Next()
	var fe *FlushError
	if !errors.As(err, &fe) || !errors.Is(err, full) || err.Error() != "writing output: no space left on device" {
		t.Fatalf("got %v (%T), want a *FlushError wrapping %v", err, err, full)
	}
}
