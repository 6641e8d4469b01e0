package storecmd

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hms-toolkit/hms/pkg/clilog"
)

// console writes hms-store's messages to stderr: whole lines, one write
// each, safe from any goroutine, and — while a --progress line is drawn —
// clearing that line first so that a message never runs into it.
type console struct {
	mu       sync.Mutex
	w        io.Writer
	name     string
	progress bool // a progress line may be on the terminal
	hinted   bool // the slow-server hint was given
}

func newConsole(c *cli.Context) *console {
	return &console{w: c.App.ErrWriter, name: c.App.Name,
		progress: c.Bool("progress") && clilog.IsTerminal(c.App.ErrWriter)}
}

// printf writes "hms-store: " and the message as one line.
func (o *console) printf(format string, args ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.writeLocked(fmt.Sprintf(o.name+": "+format+"\n", args...))
}

// Write writes p, whole lines (for a logger).
func (o *console) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(p), o.writeLocked(string(p))
}

func (o *console) writeLocked(s string) error {
	if o.progress {
		s = "\r\033[K" + s
	}
	_, err := io.WriteString(o.w, s)
	return err
}

// startProgress draws status on stderr every half second with the rate of
// count, with --progress on a terminal; the returned func stops it.
func (o *console) startProgress(c *cli.Context, count func() int64, unit string, status func() string) func() {
	if !c.Bool("progress") {
		return func() {}
	}
	// Messages and redraws are single writes that both begin by clearing
	// the line: neither tears the other.
	return clilog.Progress(c.App.ErrWriter, 500*time.Millisecond, count, unit, status)
}

// waitingText says how long the server has been busy, when it is long
// enough to matter.
func waitingText(d time.Duration) string {
	if d < time.Second {
		return ""
	}
	return fmt.Sprintf(", waiting for the server %v", d.Round(time.Second/10))
}

// slowHint explains, once per run, why writes of records that exist may be
// slow: FerretDB's update path.
func (o *console) slowHint(update bool) {
	o.mu.Lock()
	done := o.hinted || !update
	o.hinted = true
	o.mu.Unlock()
	if !done {
		o.printf("hint: the dev server (FerretDB) reads the whole collection for every update of a record that exists; " +
			"a real MongoDB finds the record through its index (see docs/hms-store.md, Upserts)")
	}
}

// noticeStop says, when the first signal comes while busy() (work is in
// flight), what must still be finished: "stopping: " and format, with the
// grace for its %v. The returned func ends the watch.
func (o *console) noticeStop(c *cli.Context, busy func() bool, format string) func() bool {
	return context.AfterFunc(c.Context, func() {
		if busy() {
			o.printf("stopping: "+format+" (a second signal cuts it short)", c.Duration("stop-grace"))
		}
	})
}
