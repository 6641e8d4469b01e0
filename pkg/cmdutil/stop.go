package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
)

// How hms commands stop. The first SIGINT or SIGTERM cancels the command's
// context, with the signal as its cause: the command stops taking new input.
// Work already in flight runs on under a WorkContext, which is cancelled
// only when the stop grace (--stop-grace) has run out, or at once when a
// second signal comes. A third signal kills the process the default way.

// SignalError is the cause of a context cancelled by a signal.
type SignalError struct {
	Signal syscall.Signal
}

func (e *SignalError) Error() string { return "stopped by " + signalName(e.Signal) }

// ExitCode is 128 plus the signal's number, as a shell reports a process
// that a signal ended: 130 for SIGINT, 143 for SIGTERM.
func (e *SignalError) ExitCode() int { return 128 + int(e.Signal) }

func signalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

type hurryKey struct{}

// NotifyStop returns a context that the first SIGINT or SIGTERM cancels,
// with a *SignalError as its cause. A second signal makes Hurry's channel
// ready; after it, signals are no longer caught. stop releases the
// signal handling.
func NotifyStop(parent context.Context) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	hurry := make(chan struct{})
	ctx = context.WithValue(ctx, hurryKey{}, (<-chan struct{})(hurry))
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		defer signal.Stop(sigs)
		for n := 0; ; {
			select {
			case s := <-sigs:
				n++
				if n == 1 {
					sig, _ := s.(syscall.Signal)
					cancel(&SignalError{Signal: sig})
					continue
				}
				close(hurry)
				return
			case <-done:
				return
			}
		}
	}()
	return ctx, func() {
		close(done)
		cancel(context.Canceled)
	}
}

// StopSignal returns the signal that cancelled ctx, or nil when no signal
// did (yet).
func StopSignal(ctx context.Context) *SignalError {
	var se *SignalError
	if errors.As(context.Cause(ctx), &se) {
		return se
	}
	return nil
}

// Hurry returns a channel that is ready once a second signal came: work in
// flight should then be cut short. It is nil (never ready) for a context
// that NotifyStop did not make.
func Hurry(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(hurryKey{}).(<-chan struct{})
	return ch
}

// ErrGraceOver is the cause of a WorkContext cancelled because the stop
// grace ran out or a second signal came.
var ErrGraceOver = errors.New("stop grace over")

// WorkContext returns a context for work in flight under ctx: it keeps
// ctx's values but neither its deadline nor its cancellation; it is cancelled
// grace after ctx is, or at once when a second signal comes (Hurry), with
// ErrGraceOver as the cause. cancel releases it.
func WorkContext(ctx context.Context, grace time.Duration) (work context.Context, cancel context.CancelFunc) {
	work, cancelCause := context.WithCancelCause(context.WithoutCancel(ctx))
	hurry := Hurry(ctx)
	stopWatch := context.AfterFunc(ctx, func() {
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-t.C:
			cancelCause(fmt.Errorf("%w: %v passed after the stop signal", ErrGraceOver, grace))
		case <-hurry:
			cancelCause(fmt.Errorf("%w: a second signal came", ErrGraceOver))
		case <-work.Done():
		}
	})
	return work, func() {
		stopWatch()
		cancelCause(context.Canceled)
	}
}

// Stopped is the error of a command that a signal stopped before it handled
// all its input: its exit status is 128+signal, and the message (if any)
// says what was done and where a rerun must start. Without a signal on ctx
// it is a plain fatal error (status 2).
func Stopped(ctx context.Context, format string, args ...any) *Error {
	e := &Error{Code: ExitFatal}
	if format != "" {
		e.Err = fmt.Errorf(format, args...)
	}
	if se := StopSignal(ctx); se != nil {
		e.Code = se.ExitCode()
		if e.Err == nil {
			e.Err = se
		} else {
			e.Err = fmt.Errorf("%v: %w", se, e.Err)
		}
	}
	return e
}

// StopGraceFlag is --stop-grace, the same in every command that stops
// gracefully.
func StopGraceFlag() cli.Flag {
	return &cli.DurationFlag{Name: "stop-grace", Value: DefaultStopGrace,
		Usage: "on SIGINT/SIGTERM, let work in flight finish for up to `D` before it is cancelled (a second signal cuts it short)"}
}

// DefaultStopGrace is the default of --stop-grace.
const DefaultStopGrace = 10 * time.Second
