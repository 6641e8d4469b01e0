// Package cmdutil holds the conventions every hms command shares: how a
// command is run (Main, Run, App), how errors and hints are printed and map
// to exit statuses, how SIGINT and SIGTERM stop a command, where the version
// comes from, and how a closed downstream pipe ends a program quietly.
//
// Exit statuses, the same for every hms binary:
//
//	0        all input was handled
//	1        some input was rejected or failed; the rest was handled (see stderr)
//	2        usage error, or a fatal error before or during the run
//	130, 143 stopped by SIGINT or SIGTERM (128+signal) before all input was
//	         handled; stderr says what was done and where a rerun must start
//	141      stdout was closed by the reader (128+SIGPIPE), exited quietly
package cmdutil

import (
	"errors"
	"fmt"
	"io"
	"syscall"

	"github.com/urfave/cli/v2"
)

// Exit statuses shared by all hms commands. A command stopped by a signal
// exits with 128 + the signal's number (see Stopped).
const (
	ExitOK         = 0
	ExitSomeFailed = 1
	ExitFatal      = 2
	ExitBrokenPipe = 128 + int(syscall.SIGPIPE)
)

// ExitCodesHelp is appended to every command's --help text.
const ExitCodesHelp = `EXIT STATUS:
   0        all input was handled
   1        some input was rejected or failed, the rest was handled (details on stderr)
   2        usage error or fatal error (bad flags, unreachable service, ...)
   130, 143 stopped by SIGINT or SIGTERM before all input was handled (128+signal);
            stderr says what was done and where a rerun must start
   141      the reader of stdout went away (quiet exit, as for SIGPIPE)`

// Error is an error with an exit status and an optional hint for the user.
type Error struct {
	Err  error
	Hint string
	Code int
}

func (e *Error) Error() string {
	if e.Err == nil {
		return ""
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Fatalf returns an *Error with exit status 2.
func Fatalf(format string, args ...any) *Error {
	return &Error{Err: fmt.Errorf(format, args...), Code: ExitFatal}
}

// UsageErrorf returns an *Error with exit status 2 and a hint pointing to
// the --help of the command c runs ("see 'hms-sign keygen --help'").
func UsageErrorf(c *cli.Context, format string, args ...any) *Error {
	return Fatalf(format, args...).WithHint("see '" + helpName(c) + " --help'")
}

// WithHint returns a copy of e that carries hint.
func (e *Error) WithHint(hint string) *Error {
	c := *e
	c.Hint = hint
	return &c
}

// Partial is the error a command returns when it handled all its input but
// rejected some of it; the details were already reported line by line.
// It prints nothing and exits with status 1.
var Partial = &Error{Err: errors.New("some input was rejected"), Code: ExitSomeFailed}

// IsBrokenPipe reports whether err comes from writing to a closed pipe.
func IsBrokenPipe(err error) bool {
	return errors.Is(err, syscall.EPIPE)
}

// Report prints err for program name on w and returns the exit status:
// "name: error: msg" and "name: hint: ..." lines.
func Report(name string, w io.Writer, err error) int {
	switch {
	case err == nil:
		return ExitOK
	case IsBrokenPipe(err):
		return ExitBrokenPipe
	case errors.Is(err, Partial):
		return ExitSomeFailed
	case errors.Is(err, errVersionShown):
		return ExitOK
	}
	code := ExitFatal
	msg, hint := err.Error(), ""
	var e *Error
	var ec cli.ExitCoder
	switch {
	case errors.As(err, &e):
		code, hint = e.Code, e.Hint
		msg = e.Error()
	case errors.As(err, &ec):
		code = ec.ExitCode()
	}
	if msg != "" {
		fmt.Fprintf(w, "%s: error: %s\n", name, msg)
	}
	if hint != "" {
		fmt.Fprintf(w, "%s: hint: %s\n", name, hint)
	}
	return code
}
