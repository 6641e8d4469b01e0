// Package signcmd is the command line of hms-sign, one file per subcommand
// (keygen.go, sign.go, verify.go), each a function returning its
// *cli.Command that App lists. The stream loops are in package signstream;
// this package holds flags, help and wiring. Main is separate from package
// main so the testscript harness can run it in-process.
package signcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/hms-toolkit/hms/pkg/cmdutil"
	"github.com/hms-toolkit/hms/pkg/message"
	"github.com/hms-toolkit/hms/pkg/message/legacy"
	"github.com/hms-toolkit/hms/pkg/signstream"
)

const name = "hms-sign"

const description = `Signs each line of standard input as an envelope, or verifies envelopes
and passes the valid ones through unchanged. An envelope is one JSON object
per line:

  {"data":…,"id":"…","kid":"…","operation":"…","origin":"…","ts":"…","signature":"…"}

signed with HMAC-SHA256 over all its fields (docs/message-format.md). Keys are
bound to an origin; verification rejects an envelope whose origin is not its
key's. Lines longer than 1 MiB (1048576 bytes) are rejected without being read
into memory.

  hms-sign keygen --kid co-2026 --origin central-office --out co.key
  seq 1 5 | hms-sign sign --key co.key --operation factor > signed
  hms-sign verify --keyring ring --emit data < signed | hms-factors

Secrets are read from files only: --key FILE (or HMS_KEY_FILE) and
--keyring FILE (or HMS_KEYRING); a keyring is key files concatenated.

--scheme legacy reads and writes the Python hms_sys format instead (sha512
of data + key). It covers neither operation nor origin, has no id or time,
and one key is shared by everyone: use it only to migrate.`

// Main runs hms-sign as the process.
func Main() int { return cmdutil.Main(Run) }

// Run runs hms-sign with args on the given streams; ctx ends it as SIGINT does.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return cmdutil.RunApp(ctx, App(), args, stdin, stdout, stderr)
}

// App is the definition of hms-sign: its subcommands, flags and help.
func App() *cli.App {
	app := cmdutil.NewApp(name, "sign and verify message envelopes (HMAC-SHA256, per-origin keys)")
	app.Description = description
	app.Commands = []*cli.Command{keygenCommand(), signCommand(), verifyCommand()}
	return cmdutil.Prepare(app)
}

// Environment variables that stand for --key and --keyring.
const (
	envKey     = "HMS_KEY_FILE"
	envKeyring = "HMS_KEYRING"
)

// schemeFlag returns a fresh --scheme flag (flags hold state: each App
// gets its own).
func schemeFlag() cli.Flag {
	return &cli.StringFlag{
		Name: "scheme", Value: "hms",
		Usage: "`SCHEME`: hms, or legacy for the Python hms_sys format (covers neither operation nor origin)",
	}
}

// isLegacy reads --scheme.
func isLegacy(c *cli.Context) (bool, error) {
	switch s := c.String("scheme"); s {
	case "hms":
		return false, nil
	case "legacy":
		return true, nil
	default:
		return false, cmdutil.UsageErrorf(c, "unknown --scheme %q: want hms or legacy", s)
	}
}

// onCommandLine reports whether flag was given on the command line, not
// only through its environment variable env.
func onCommandLine(c *cli.Context, flag, env string) bool {
	v, inEnv := os.LookupEnv(env)
	return c.IsSet(flag) && !(inEnv && c.String(flag) == v)
}

// warnings has key-file warnings printed on c's stderr.
func warnings(c *cli.Context) message.LoadOption {
	return message.OnWarning(cmdutil.Warner(c))
}

func noKeyErr(c *cli.Context, what string) error {
	return cmdutil.UsageErrorf(c, "no %s given: use %s", what, map[string]string{
		"key":     "--key FILE or HMS_KEY_FILE",
		"keyring": "--keyring FILE or HMS_KEYRING (or --key FILE for a single key)",
	}[what])
}

// loadLegacyKey reads the legacy key text of --key.
func loadLegacyKey(c *cli.Context) ([]byte, error) {
	key, err := legacy.LoadKey(c.String("key"), warnings(c))
	if err != nil {
		e := cmdutil.Fatalf("%v", err)
		var ke *legacy.KeyError
		if errors.As(err, &ke) {
			e = e.WithHint(ke.Hint)
		}
		return nil, e
	}
	return key, nil
}

// runError is the error of a stream run that could not go on, for the
// command to return: a closed stdout stays a quiet exit (141), a stop by a
// signal says which lines were handled and where a rerun must start.
func runError(ctx context.Context, st signstream.Stats, err error) error {
	switch {
	case err == nil:
		return nil
	case cmdutil.IsBrokenPipe(err):
		return err
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		if st.Lines == 0 {
			return cmdutil.Stopped(ctx, "no line was read")
		}
		return cmdutil.Stopped(ctx, "lines 1-%d were handled; a rerun must start at line %d", st.Lines, st.Lines+1)
	}
	return cmdutil.Fatalf("%v", err)
}

// summary prints, with --verbose, what a run did.
func summary(c *cli.Context, st signstream.Stats, wrote string) {
	if !c.Bool("verbose") {
		return
	}
	fmt.Fprintf(c.App.ErrWriter, "%s: read %d %s, %s, rejected %d %s\n", name,
		st.Lines, cmdutil.Plural(st.Lines, "line"), wrote, st.Rejected, cmdutil.Plural(st.Rejected, "line"))
}
