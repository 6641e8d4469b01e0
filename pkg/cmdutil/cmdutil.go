// Package cmdutil holds the conventions every hms command shares: how errors
// and hints are printed, how they map to exit statuses, where the version
// comes from, and how a closed downstream pipe ends a program quietly.
//
// Exit statuses, the same for every hms binary:
//
//	0    all input was handled
//	1    some input was rejected or failed; the rest was handled (see stderr)
//	2    usage error, or a fatal error before or during the run
//	141  stdout was closed by the reader (128+SIGPIPE), exited quietly
package cmdutil

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"
)

// Exit statuses shared by all hms commands.
const (
	ExitOK         = 0
	ExitSomeFailed = 1
	ExitFatal      = 2
	ExitBrokenPipe = 141
)

// ExitCodesHelp is appended to every command's --help text.
const ExitCodesHelp = `EXIT STATUS:
   0    all input was handled
   1    some input was rejected or failed, the rest was handled (details on stderr)
   2    usage error or fatal error (bad flags, unreachable service, ...)
   141  the reader of stdout went away (quiet exit, as for SIGPIPE)`

// Error is an error with an exit status and an optional hint for the user.
type Error struct {
	Err  error
	Hint string
	Code int
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Fatalf returns an *Error with exit status 2.
func Fatalf(format string, args ...any) *Error {
	return &Error{Err: fmt.Errorf(format, args...), Code: ExitFatal}
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

// Version is the module version from the build information ("(devel)" for a
// plain go build inside the repository), with the VCS revision when known.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return v
}

// CreateOutput creates (or truncates) the file at path, named by flag in
// messages, for a side output such as --failed or --rejects. It refuses a
// path that is also standard input: creating it would empty the input before
// it is read ('--failed rest < rest').
func CreateOutput(flag, path string) (*os.File, error) {
	if in, err := os.Stdin.Stat(); err == nil && in.Mode().IsRegular() {
		if out, err := os.Stat(path); err == nil && os.SameFile(in, out) {
			return nil, Fatalf("%s %s is also the input: it would be emptied before it is read", flag, path).
				WithHint("write it to another file")
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, Fatalf("%s: %v", flag, err)
	}
	return f, nil
}

// IsBrokenPipe reports whether err comes from writing to a closed pipe.
func IsBrokenPipe(err error) bool {
	return errors.Is(err, syscall.EPIPE)
}

// NewApp returns a cli.App preset the hms way: version from build info,
// exit statuses documented in --help, usage errors as exit status 2, and
// errors returned (not printed) so Run can format them.
func NewApp(name, usage string) *cli.App {
	return &cli.App{
		Name:                   name,
		Usage:                  usage,
		Version:                Version(),
		HideHelpCommand:        true,
		UseShortOptionHandling: true,
		Writer:                 os.Stdout,
		ErrWriter:              os.Stderr,
		ExitErrHandler:         func(*cli.Context, error) {}, // Run reports errors itself.
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return &Error{Err: err, Code: ExitFatal, Hint: "see '" + c.App.Name + " --help'"}
		},
		CustomAppHelpTemplate: cli.AppHelpTemplate + ExitCodesHelp + "\n",
	}
}

// Run runs app with args (args[0] is the program name) and turns its result
// into an exit status, printing errors as "name: error: msg" and hints as
// "hint: ...", both on stderr.
func Run(app *cli.App, args []string) int {
	prepare(app)
	err := app.Run(args)
	return Report(app.Name, app.ErrWriter, err)
}

// Report prints err for program name on w and returns the exit status.
func Report(name string, w io.Writer, err error) int {
	if err == nil {
		return ExitOK
	}
	if w == nil {
		w = os.Stderr
	}
	if IsBrokenPipe(err) {
		return ExitBrokenPipe
	}
	if err == Partial || errors.Is(err, Partial) {
		return ExitSomeFailed
	}
	var e *Error
	if errors.As(err, &e) {
		if e.Err != nil && e.Err.Error() != "" {
			fmt.Fprintf(w, "%s: error: %v\n", name, e.Err)
		}
		if e.Hint != "" {
			fmt.Fprintf(w, "hint: %s\n", e.Hint)
		}
		return e.Code
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		if msg := err.Error(); msg != "" {
			fmt.Fprintf(w, "%s: error: %s\n", name, msg)
		}
		return ec.ExitCode()
	}
	fmt.Fprintf(w, "%s: error: %v\n", name, err)
	return ExitFatal
}

// prepare makes every usage error of app and its commands go through Report:
// urfave/cli prints a command's help on stdout, where the data goes, when a
// subcommand gets a bad flag or misses a required one, and exits with the
// undocumented status 3 for an unknown command. Instead each becomes an
// "error:" line with a hint on stderr and exit status 2.
func prepare(app *cli.App) {
	if app.Action == nil && len(app.Commands) > 0 {
		app.Action = func(c *cli.Context) error {
			hint := "see '" + app.Name + " --help'; commands: " + strings.Join(commandNames(app.Commands), ", ")
			if c.NArg() > 0 {
				return Fatalf("unknown command %q", c.Args().First()).WithHint(hint)
			}
			return Fatalf("no command given").WithHint(hint)
		}
	}
	app.Before = checkRequired(app.Flags, app.Before, "see '"+app.Name+" --help'")
	prepareCommands(app.Name, app.Commands)
}

func prepareCommands(parent string, cmds []*cli.Command) {
	for _, cmd := range cmds {
		full := parent + " " + cmd.Name
		if cmd.OnUsageError == nil {
			hint := "see '" + full + " --help'"
			cmd.OnUsageError = func(_ *cli.Context, err error, _ bool) error {
				return &Error{Err: err, Code: ExitFatal, Hint: hint}
			}
		}
		cmd.Before = checkRequired(cmd.Flags, cmd.Before, "see '"+full+" --help'")
		prepareCommands(full, cmd.Subcommands)
	}
}

// checkRequired takes over the check of flags marked Required (so urfave/cli
// does not print the help on stdout) and returns a Before that does it first.
func checkRequired(flags []cli.Flag, before cli.BeforeFunc, hint string) cli.BeforeFunc {
	var required []cli.Flag
	for _, f := range flags {
		v := reflect.ValueOf(f)
		if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
			continue
		}
		r := v.Elem().FieldByName("Required")
		if r.IsValid() && r.Kind() == reflect.Bool && r.CanSet() && r.Bool() {
			r.SetBool(false)
			required = append(required, f)
		}
	}
	if len(required) == 0 {
		return before
	}
	return func(c *cli.Context) error {
		var missing []string
		for _, f := range required {
			set := false
			for _, n := range f.Names() {
				set = set || c.IsSet(n)
			}
			if !set {
				missing = append(missing, f.Names()[0])
			}
		}
		if len(missing) > 0 {
			// urfave/cli's own wording, which scripts may already match.
			return Fatalf("Required %s %q not set", plural(len(missing), "flag"), strings.Join(missing, ", ")).WithHint(hint)
		}
		if before != nil {
			return before(c)
		}
		return nil
	}
}

func commandNames(cmds []*cli.Command) []string {
	var names []string
	for _, c := range cmds {
		if !c.Hidden {
			names = append(names, c.Name)
		}
	}
	return names
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
