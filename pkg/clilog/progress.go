package clilog

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Progress redraws one status line on w every interval, for --progress:
// the text of status() followed by the rate of count() since the last
// redraw, in unit per second ("hms-send: read 10, confirmed 8  4100 msg/s").
// It draws nothing when w is not a terminal, so logs stay clean. The
// returned stop clears the line.
func Progress(w io.Writer, interval time.Duration, count func() int64, unit string, status func() string) (stop func()) {
	if !IsTerminal(w) {
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
				fmt.Fprint(w, "\r\033[K")
				return
			case now := <-t.C:
				n := count()
				rate := float64(n-last) / now.Sub(lastT).Seconds()
				last, lastT = n, now
				fmt.Fprintf(w, "\r\033[K%s  %.0f %s/s", status(), rate, unit)
			}
		}
	}()
	return func() { close(quit); wg.Wait() }
}

// IsTerminal reports whether w is a terminal (a character device): progress
// lines are drawn only there.
func IsTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
