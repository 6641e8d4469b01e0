package amqprecv

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

// runResult is how a run of the command ended.
type runResult struct {
	status   int // exit status; 128+signal for a command a signal killed
	took     time.Duration
	timedOut bool  // killed after the timeout
	stopped  bool  // killed because work was done
	err      error // the command could not be started
}

// runCommand runs opt.Command with sh -c, in a process group of its own so
// that a signal reaches the whole pipeline it starts ('a | b'). A command
// that runs longer than opt.Timeout (when > 0), or still runs when work is
// done, is killed: SIGTERM to its process group, SIGKILL opt.KillDelay
// later. When ctx ends first, opt.Stopping is called.
func runCommand(ctx, work context.Context, opt *ExecOptions, stdin io.Reader) runResult {
	cmd := exec.Command("sh", "-c", opt.Command)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, opt.Stdout, opt.Stderr
	killDelay := opt.KillDelay
	// Once sh is gone, its output may still be held by a process that
	// left its group: don't wait for that one forever.
	cmd.WaitDelay = killDelay
	inOwnGroup(cmd)
	start := time.Now()
	started, done := make(chan error, 1), make(chan error, 1)
	go func() {
		// A parent-death signal (Linux) is tied to the thread that started
		// the child: keep the thread until the child is gone.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		done <- cmd.Wait()
	}()
	if err := <-started; err != nil {
		return runResult{err: err}
	}
	var timer <-chan time.Time
	if opt.Timeout > 0 {
		t := time.NewTimer(opt.Timeout)
		defer t.Stop()
		timer = t.C
	}
	var res runResult
	for stopping := ctx.Done(); ; {
		select {
		case <-done:
		case <-stopping:
			stopping = nil
			if opt.Stopping != nil {
				opt.Stopping()
			}
			continue
		case <-timer:
			res.timedOut = true
			kill(cmd.Process, done, killDelay)
		case <-work.Done():
			res.stopped = true
			kill(cmd.Process, done, killDelay)
		}
		break
	}
	res.took = time.Since(start)
	res.status = exitStatus(cmd.ProcessState)
	return res
}

// kill ends the process group of p: SIGTERM, then SIGKILL after delay if
// p has not ended by then (done is its Wait).
func kill(p *os.Process, done <-chan error, delay time.Duration) {
	signalGroup(p, syscall.SIGTERM)
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
	}
	signalGroup(p, syscall.SIGKILL)
	<-done
}

// exitStatus is the exit status of a process as a shell reports it:
// 128+signal for one that a signal killed.
func exitStatus(ps *os.ProcessState) int {
	if ps == nil {
		return 255
	}
	if code := ps.ExitCode(); code >= 0 {
		return code
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return 255
}

// failing tracks, while draining, the messages whose runs failed, to tell
// when nothing but failing messages is left (see ToCommand). Its methods
// do nothing on a nil *failing.
type failing struct {
	failed  map[messageKey]struct{} // failed, and not settled since
	away    map[messageKey]struct{} // requeued, and not delivered again since
	runs    int                     // failed runs since the last settled one
	repeats int                     // of those, runs whose messages had all failed before
}

// messageKey tells messages apart: a hash of the message-id and the body.
type messageKey [sha256.Size]byte

func keyOf(d *Delivery) messageKey {
	h := sha256.New()
	h.Write(binary.AppendUvarint(nil, uint64(len(d.MessageId))))
	h.Write([]byte(d.MessageId))
	h.Write(d.Body)
	var k messageKey
	h.Sum(k[:0])
	return k
}

// failedRun records a failed run of batch, and reports whether the drain
// should give up.
func (f *failing) failedRun(batch []*Delivery) bool {
	if f == nil {
		return false
	}
	if f.away == nil {
		f.away = map[messageKey]struct{}{}
	}
	repeat := true
	for _, d := range batch {
		k := keyOf(d)
		f.away[k] = struct{}{}
		if _, ok := f.failed[k]; !ok {
			repeat = false
			f.failed[k] = struct{}{}
		}
	}
	f.runs++
	if repeat {
		f.repeats++
	}
	return f.repeats >= DrainGiveUp
}

// delivered records that d came (back): it is no longer away.
func (f *failing) delivered(d *Delivery) {
	if f != nil && len(f.away) > 0 {
		delete(f.away, keyOf(d))
	}
}

// returning reports whether messages requeued after a failed run have not
// been delivered again yet.
func (f *failing) returning() bool { return len(f.away) > 0 }

// settled records a run that acked or dead-lettered its batch.
func (f *failing) settled(batch []*Delivery) {
	if f == nil {
		return
	}
	f.runs, f.repeats = 0, 0
	if len(f.failed) > 0 {
		for _, d := range batch {
			delete(f.failed, keyOf(d))
		}
	}
}

func (f *failing) err() error {
	return &FailingError{FailedRuns: f.runs, RepeatRuns: f.repeats, Messages: len(f.failed)}
}
