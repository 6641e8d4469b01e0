package signcmd

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hms-toolkit/hms/pkg/cmdutil"
	"github.com/hms-toolkit/hms/pkg/message"
	"github.com/hms-toolkit/hms/pkg/message/legacy"
	"github.com/hms-toolkit/hms/pkg/signstream"
)

func signCommand() *cli.Command {
	return &cli.Command{
		Name:      "sign",
		Usage:     "sign each input line as one envelope",
		UsageText: "hms-sign sign --key FILE --operation OP [--raw] [--chunk N] < lines > envelopes",
		Description: `Each line of standard input is parsed as strict JSON and becomes the data
of one envelope; origin and kid come from the key. With --raw the line is
taken as a string instead. With --chunk N, N consecutive lines become one
envelope whose data is the array of them (the last may hold fewer).
A line that cannot be signed is reported on stderr with its number and
left out; the others are signed (exit status 1). sign refuses whatever
verify would refuse: a line that is not strict JSON (or, with --raw, not
UTF-8), data nested deeper than 511 levels (the envelope is the 512th), an
envelope longer than 1 MiB.

With --scheme legacy, --key FILE holds the legacy key text (its UTF-8 bytes,
without the final newline, are the key) and --origin sets the origin field,
which the legacy signature does not cover; numbers beyond the range of a
double are refused (Python would write Infinity, which is not JSON).`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "key", Usage: "read the signing key from `FILE` (never from the command line)", EnvVars: []string{envKey}},
			&cli.StringFlag{Name: "operation", Usage: "the `OP` each envelope asks for (create, update, delete, factor, …)"},
			&cli.BoolFlag{Name: "raw", Usage: "take each line as a JSON string rather than parsing it"},
			&cli.IntFlag{Name: "chunk", Value: 1, Usage: "put `N` consecutive lines into one envelope, as an array"},
			schemeFlag(),
			&cli.StringFlag{Name: "origin", Usage: "legacy scheme only: the `ORIGIN` field to write (hms takes it from the key)"},
			cmdutil.VerboseFlag("print a summary on stderr: lines read, envelopes written, lines rejected"),
		},
		Action: sign,
	}
}

func sign(c *cli.Context) error {
	if err := cmdutil.Require(c, "operation"); err != nil {
		return err
	}
	if err := cmdutil.NoArgs(c, "input is read from stdin"); err != nil {
		return err
	}
	op := c.String("operation")
	if !message.ValidOperation(op) {
		return cmdutil.UsageErrorf(c, "invalid --operation %q: want 1 to 64 of [A-Za-z0-9._-], starting with a letter", op)
	}
	if c.Int("chunk") < 1 {
		return cmdutil.UsageErrorf(c, "--chunk must be at least 1")
	}
	scheme, err := signScheme(c, op)
	if err != nil {
		return err
	}
	stderr := bufio.NewWriter(c.App.ErrWriter)
	defer stderr.Flush()
	st, err := signstream.Sign(c.Context, c.App.Reader, c.App.Writer, signstream.SignOptions{
		Scheme:   scheme,
		Raw:      c.Bool("raw"),
		Chunk:    c.Int("chunk"),
		OnReject: func(r signstream.Reject) { reportSignReject(stderr, r) },
		Flush:    stderr,
	})
	stderr.Flush()
	summary(c, st, fmt.Sprintf("wrote %d %s", st.Envelopes, cmdutil.Plural(st.Envelopes, "envelope")))
	if err := runError(c.Context, st, err); err != nil {
		return err
	}
	if st.Rejected > 0 {
		return cmdutil.Partial
	}
	return nil
}

// signScheme makes the scheme --scheme names, with its key and flags.
func signScheme(c *cli.Context, op string) (signstream.Scheme, error) {
	legacyScheme, err := isLegacy(c)
	if err != nil {
		return nil, err
	}
	if c.String("key") == "" {
		return nil, noKeyErr(c, "key")
	}
	if legacyScheme {
		return legacySignScheme(c, op)
	}
	if c.IsSet("origin") {
		return nil, cmdutil.UsageErrorf(c, "--origin is for --scheme legacy; an hms envelope's origin comes from its key")
	}
	key, err := message.LoadKey(c.String("key"), warnings(c))
	if err != nil {
		return nil, cmdutil.Fatalf("%v", err)
	}
	s, err := message.NewSigner(key)
	if err != nil {
		return nil, cmdutil.Fatalf("%v", err)
	}
	return signstream.HMS(s, op, time.Now), nil
}

func legacySignScheme(c *cli.Context, op string) (signstream.Scheme, error) {
	origin := c.String("origin")
	if c.IsSet("origin") && origin == "" {
		return nil, cmdutil.UsageErrorf(c, "empty --origin: leave the flag out for messages without an origin")
	}
	key, err := loadLegacyKey(c)
	if err != nil {
		return nil, err
	}
	s, err := legacy.NewSigner(key, op, origin)
	if err != nil {
		return nil, cmdutil.UsageErrorf(c, "--origin: %v", err)
	}
	return signstream.Legacy(s), nil
}

// reportSignReject writes "hms-sign: line N: why" (or "lines A-B: why" for
// a chunk) on w.
func reportSignReject(w io.Writer, r signstream.Reject) {
	where := fmt.Sprintf("line %d", r.First)
	if r.Last != r.First {
		where = fmt.Sprintf("lines %d-%d", r.First, r.Last)
	}
	why := r.Err.Error()
	if errors.Is(r.Err, signstream.ErrEmptyLine) {
		why += " (use --raw to sign lines as strings)"
	}
	fmt.Fprintf(w, "%s: %s: %s\n", name, where, why)
}
