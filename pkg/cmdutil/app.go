package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/hms-toolkit/hms/pkg/version"
)

// RunFunc is a whole command as a function of its arguments (args[0] is
// the program name) and streams, returning the exit status. ctx is
// cancelled when the command is asked to stop (SIGINT or SIGTERM).
type RunFunc func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int

// Main runs run as the process: with os.Args, the standard streams, and a
// context that the first SIGINT or SIGTERM cancels (see NotifyStop).
func Main(run RunFunc) int {
	ctx, stop := NotifyStop(context.Background())
	defer stop()
	return run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
}

// RunApp runs app with args on the given streams and returns its exit
// status, errors printed the hms way (see Report).
func RunApp(ctx context.Context, app *cli.App, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app.Reader, app.Writer, app.ErrWriter = stdin, stdout, stderr
	Prepare(app)
	return Report(app.Name, stderr, app.RunContext(ctx, args))
}

// NewApp returns a cli.App preset the hms way: --version from the build
// information, exit statuses documented in --help, usage errors as exit
// status 2, and errors returned (not printed) so RunApp can format them.
// Call Prepare (RunApp does) once its flags and commands are set.
func NewApp(name, usage string) *cli.App {
	return &cli.App{
		Name:                   name,
		Usage:                  usage,
		HideVersion:            true, // --version is ours: -v is --verbose in hms
		HideHelpCommand:        true,
		UseShortOptionHandling: true,
		ExitErrHandler:         func(*cli.Context, error) {}, // RunApp reports errors itself.
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return &Error{Err: err, Code: ExitFatal, Hint: "see '" + c.App.Name + " --help'"}
		},
		CustomAppHelpTemplate: cli.AppHelpTemplate + ExitCodesHelp + "\n",
	}
}

// errVersionShown ends a run that printed the version: exit status 0.
var errVersionShown = errors.New("version shown")

const versionFlagName = "version"

// Prepare completes app's definition: the --version flag, usage errors of
// every command on stderr with a hint (urfave/cli prints a subcommand's
// help on stdout, where the data goes, and exits with status 3 for an
// unknown command), the exit statuses in every command's help, and no
// "(default: false)" after boolean flags. It is idempotent.
func Prepare(app *cli.App) *cli.App {
	if app.Metadata["hms-prepared"] != nil {
		return app
	}
	if app.Metadata == nil {
		app.Metadata = map[string]any{}
	}
	app.Metadata["hms-prepared"] = true
	app.Flags = append(app.Flags, &cli.BoolFlag{Name: versionFlagName, Aliases: []string{"V"}, Usage: "print the version"})
	before := app.Before
	app.Before = func(c *cli.Context) error {
		if c.Bool(versionFlagName) {
			fmt.Fprintln(c.App.Writer, version.Line(c.App.Name))
			return errVersionShown
		}
		if before != nil {
			return before(c)
		}
		return nil
	}
	if app.Action == nil && len(app.Commands) > 0 {
		app.Action = func(c *cli.Context) error {
			hint := "see '" + app.Name + " --help'; commands: " + strings.Join(commandNames(app.Commands), ", ")
			if c.NArg() > 0 {
				return Fatalf("unknown command %q", c.Args().First()).WithHint(hint)
			}
			return Fatalf("no command given").WithHint(hint)
		}
	}
	quietBoolDefaults(app.Flags)
	prepareCommands(app.Name, app.Commands)
	return app
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
		if cmd.CustomHelpTemplate == "" {
			cmd.CustomHelpTemplate = cli.CommandHelpTemplate + ExitCodesHelp + "\n"
		}
		quietBoolDefaults(cmd.Flags)
		prepareCommands(full, cmd.Subcommands)
	}
}

// quietBoolDefaults drops "(default: false)" from the help of boolean
// flags: a switch that is off by default says nothing by being listed.
func quietBoolDefaults(flags []cli.Flag) {
	for _, f := range flags {
		if b, ok := f.(*cli.BoolFlag); ok && !b.Value {
			b.DisableDefaultText = true
		}
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

// helpName is the name of the command c runs, as its help is asked for:
// "hms-sign keygen", or "hms-send" for an app without commands.
func helpName(c *cli.Context) string {
	if c.Command != nil && c.Command.HelpName != "" && c.Command.HelpName != c.App.Name {
		return c.Command.HelpName
	}
	return c.App.Name
}

// Require returns a usage error naming the flags among names that c did
// not get (on the command line or from their environment variables).
func Require(c *cli.Context, names ...string) error {
	var missing []string
	for _, n := range names {
		if !c.IsSet(n) {
			missing = append(missing, n)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	// urfave/cli's own wording, which scripts may already match.
	return UsageErrorf(c, "Required %s %q not set", Plural(len(missing), "flag"), strings.Join(missing, ", "))
}

// NoArgs returns a usage error when c got arguments: what names where the
// input comes from instead ("hms-send reads stdin").
func NoArgs(c *cli.Context, what string) error {
	if c.NArg() == 0 {
		return nil
	}
	return UsageErrorf(c, "unexpected argument %q: %s", c.Args().First(), what)
}

// VerboseFlag is -v, --verbose, the same in every hms binary; usage says
// what it adds for the command.
func VerboseFlag(usage string) cli.Flag {
	return &cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: usage}
}

// ProgressFlag is --progress: a status line on stderr when it is a terminal.
func ProgressFlag(usage string) cli.Flag {
	return &cli.BoolFlag{Name: "progress", Usage: usage}
}
