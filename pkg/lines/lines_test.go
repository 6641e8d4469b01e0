package lines

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
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

// TrimCR and KeepPrefix, the way hms-store apply reads envelopes: CRLF
// lines, and the start of a refused line kept for the audit trail. Lines
// much longer than the read buffer, and reads of one byte at a time.
func TestOptions(t *testing.T) {
	const max = 8
	type line struct {
		text    string
		tooLong int64 // TooLongError.Len, 0 for a line
	}
	huge := strings.Repeat("x", 3*readBuffer+7)
	tests := []struct {
		name, in string
		want     []line
	}{
		{"empty input", "", nil},
		{"lines", "a\nbb\n", []line{{"a", 0}, {"bb", 0}}},
		{"no final newline", "a\nbb", []line{{"a", 0}, {"bb", 0}}},
		{"crlf", "a\r\nbb\r\n", []line{{"a", 0}, {"bb", 0}}},
		{"cr at the end", "a\r", []line{{"a", 0}}},
		{"empty lines", "\n\r\na\n", []line{{"", 0}, {"", 0}, {"a", 0}}},
		{"exactly max", "12345678\n", []line{{"12345678", 0}}},
		{"exactly max with crlf", "12345678\r\n", []line{{"12345678", 0}}},
		{"max+1", "123456789\nok\n", []line{{"1234", 9}, {"ok", 0}}},
		{"max+1 with crlf", "123456789\r\nok\n", []line{{"1234", 9}, {"ok", 0}}},
		{"far too long", huge + "\r\nok", []line{{"xxxx", int64(len(huge))}, {"ok", 0}}},
		{"far too long at the end", "ok\n" + huge, []line{{"ok", 0}, {"xxxx", int64(len(huge))}}},
	}
	for _, tt := range tests {
		for _, oneByte := range []bool{false, true} {
			var in io.Reader = strings.NewReader(tt.in)
			if oneByte {
				in = iotest.OneByteReader(in)
			}
			r := New(in, Options{Max: max, TrimCR: true, KeepPrefix: 4})
			var got []line
			for {
				b, err := r.Next()
				if err == io.EOF {
					break
				}
				var tl *TooLongError
				switch {
				case errors.As(err, &tl):
					got = append(got, line{string(tl.Prefix), tl.Len})
				case err != nil:
					t.Fatal(err)
				default:
					got = append(got, line{string(b), 0})
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s (one byte at a time: %v): got %+v, want %+v", tt.name, oneByte, got, tt.want)
			}
		}
	}
}

// A line longer than the read buffer and within the maximum is returned
// whole; the memory held afterwards is that line's, not the maximum's.
func TestLongLineWithinMax(t *testing.T) {
	long := strings.Repeat("y", 5*readBuffer)
	r := New(strings.NewReader("a\n"+long+"\nb\n"), Options{Max: 64 << 20})
	for _, want := range []string{"a", long, "b"} {
		got, err := r.Next()
		if err != nil || string(got) != want {
			t.Fatalf("got %.20q (%d bytes), %v; want %.20q", got, len(got), err, want)
		}
	}
	if c := cap(r.long); c > 2*len(long) {
		t.Errorf("holds %d bytes for a %d-byte line", c, len(long))
	}
}
