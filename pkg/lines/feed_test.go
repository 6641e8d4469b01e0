package lines

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// Every line comes through in order with its number, whatever the queue's
// limit; a line too long comes as its prefix and a *TooLongError.
func TestFeedLines(t *testing.T) {
	var in strings.Builder
	for i := 1; i <= 1000; i++ {
		if i == 500 {
			in.WriteString(strings.Repeat("z", 100) + "\n")
			continue
		}
		fmt.Fprintf(&in, "line %d\n", i)
	}
	for _, limit := range []int{1, 50, 1 << 20} {
		f := NewFeed(New(strings.NewReader(in.String()), Options{Max: 20, KeepPrefix: 3}), limit)
		n := int64(0)
		for {
			l, err := f.Next(context.Background())
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			n++
			want := fmt.Sprintf("line %d", n)
			if n == 500 {
				var tl *TooLongError
				if !errors.As(l.Err, &tl) || tl.Len != 100 {
					t.Fatalf("line 500: %v", l.Err)
				}
				want = "zzz"
			}
			if l.Num != n || string(l.Text) != want {
				t.Fatalf("limit %d: got %d %q, want %d %q", limit, l.Num, l.Text, n, want)
			}
		}
		if n != 1000 {
			t.Fatalf("limit %d: %d lines", limit, n)
		}
	}
}

// Close ends the wait for a read that never returns; the lines read
// before it can still be taken, then Take says ErrClosed.
func TestFeedCloseWhileReadBlocks(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	f := NewFeed(NewReader(pr, 100), 1<<10)
	go pw.Write([]byte("a\nb\n"))
	for got := 0; got < 2; {
		<-f.Ready()
		lines, err := f.Take()
		if err != nil {
			t.Fatal(err)
		}
		got += len(lines)
	}
	pw.Write([]byte("c\n"))
	// The reader goroutine is now blocked in Read, or has queued "c".
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if l, err := f.Next(ctx); err == nil && string(l.Text) == "c" {
		_, err = f.Next(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("waiting for more: %v", err)
		}
	} else if err != nil {
		t.Fatalf("line c: %v", err)
	}
	f.Close()
	select {
	case <-f.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not make the feed ready")
	}
	if _, err := f.Next(context.Background()); err != ErrClosed {
		t.Fatalf("after Close: %v, want ErrClosed", err)
	}
}

// The input's end comes after the last line, even after Close.
func TestFeedEndBeforeClose(t *testing.T) {
	f := NewFeed(NewReader(strings.NewReader("x\n"), 100), 100)
	l, err := f.Next(context.Background())
	if err != nil || string(l.Text) != "x" {
		t.Fatalf("%q %v", l.Text, err)
	}
	for {
		if _, err = f.Take(); err != nil {
			break
		}
		<-f.Ready()
	}
	f.Close()
	if _, err := f.Take(); err != io.EOF {
		t.Fatalf("got %v, want io.EOF", err)
	}
}
