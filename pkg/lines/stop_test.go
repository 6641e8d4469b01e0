package lines

import (
	"context"
	"errors"
	"io"
	"testing"
)

func TestStopReader(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	r := StopReader(ctx, pr)
	go pw.Write([]byte("one\n"))
	buf := make([]byte, 16)
	if n, err := r.Read(buf); err != nil || string(buf[:n]) != "one\n" {
		t.Fatalf("first read: %q, %v", buf[:n], err)
	}
	// The next read blocks on a writer that never writes: a cancel ends it.
	done := make(chan error, 1)
	go func() {
		_, err := r.Read(buf)
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, ErrStopped) {
		t.Fatalf("read after cancel: %v, want ErrStopped", err)
	}
	if _, err := r.Read(buf); !errors.Is(err, ErrStopped) {
		t.Fatalf("later read: %v", err)
	}
	if r := StopReader(context.Background(), pr); r != io.Reader(pr) {
		t.Fatal("a context that is never cancelled needs no wrapper")
	}
}
