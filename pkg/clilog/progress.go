package clilog

import (
	"fmt"
	"os"
	"sync"
	"time"
)

// IsTerminal reports whether f is a character device (a terminal).
func IsTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Progress redraws one status line on f every interval: count() is the
// number of messages so far, shown with the rate since the last redraw and
// the text of detail(). It draws nothing when f is not a terminal. Stop
// clears the line.
func Progress(f *os.File, interval time.Duration, count func() int64, detail func() string) (stop func()) {
	if !IsTerminal(f) {
		return func() {}
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		last, lastT := count(), time.Now()
		for {
			select {
			case <-quit:
				fmt.Fprint(f, "\r\033[K")
				return
			case now := <-t.C:
				n := count()
				rate := float64(n-last) / now.Sub(lastT).Seconds()
				last, lastT = n, now
				fmt.Fprintf(f, "\r\033[K%s  %.0f msg/s", detail(), rate)
			}
		}
	}()
	return func() { close(quit); wg.Wait() }
}
