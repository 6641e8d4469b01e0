package signcmd

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hms-toolkit/hms/pkg/cmdutil"
	"github.com/hms-toolkit/hms/pkg/message"
	"github.com/hms-toolkit/hms/pkg/signstream"
)

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "pass valid envelopes through unchanged, report the others",
		UsageText: "hms-sign verify --keyring FILE [--max-age D] [--rejects FILE] [--emit data] < envelopes",
		Description: `Each valid envelope is written to standard output byte for byte. Each
rejected line gets one line on stderr, "hms-sign: line N: id ID: REASON: detail"
(the id when it could be read), where REASON is one of
  malformed        not a well-formed envelope (bad JSON, duplicate key, invalid
                   UTF-8, missing/unknown field, wrong type, empty line)
  too-long         longer than 1 MiB
  unknown-kid      no key with that kid in the keyring
  bad-signature    altered after signing, or signed with another key
  origin-mismatch  signed by a key whose origin is not the envelope's origin
  too-old, future  ts outside --max-age of now
  replayed         an id already seen earlier in the stream
With --emit data only the data of each valid envelope is written, in its
canonical form on one line, and an array one element per line, ready for
hms-factors or hms-store.

--key FILE verifies with a single key instead of a keyring; give one of
--key and --keyring (on the command line, one overrides the other's
environment variable).

With --scheme legacy, --key FILE holds the legacy key text and the book's
format is checked: only data is covered, so operation and origin are NOT
authenticated, and there is no replay or age check.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "keyring", Usage: "verify with the keys in `FILE` (key files concatenated)", EnvVars: []string{envKeyring}},
			&cli.StringFlag{
				Name: "key", Usage: "verify with the single key in `FILE` (and, for --scheme legacy, the legacy key text)",
				EnvVars: []string{envKey},
			},
			&cli.StringFlag{Name: "max-age", Usage: "reject envelopes signed more than `D` ago (or ahead): 90s, 15m, 2h, 7d"},
			&cli.StringFlag{Name: "rejects", Usage: "also write each rejected line to `FILE` as JSON: {line, id, reason, error, input}"},
			&cli.StringFlag{Name: "emit", Value: "envelope", Usage: "`WHAT` to write for valid lines: envelope, or data"},
			schemeFlag(),
			cmdutil.VerboseFlag("print a summary on stderr: lines read, envelopes passed, lines rejected"),
		},
		Action: verify,
	}
}

func verify(c *cli.Context) error {
	if err := cmdutil.NoArgs(c, "input is read from stdin"); err != nil {
		return err
	}
	emitData := false
	switch e := c.String("emit"); e {
	case "envelope":
	case "data":
		emitData = true
	default:
		return cmdutil.UsageErrorf(c, "unknown --emit %q: want envelope or data", e)
	}
	check, err := verifyCheck(c)
	if err != nil {
		return err
	}
	var rejects *bufio.Writer
	if path := c.String("rejects"); path != "" {
		f, err := cmdutil.CreateOutput("--rejects", path, c.App.Reader)
		if err != nil {
			return err
		}
		defer f.Close()
		rejects = bufio.NewWriter(f)
	}
	stderr := bufio.NewWriter(c.App.ErrWriter)
	defer stderr.Flush()
	st, err := signstream.Verify(c.Context, c.App.Reader, c.App.Writer, signstream.VerifyOptions{
		Check:    check,
		EmitData: emitData,
		OnReject: func(r signstream.Reject) { reportVerifyReject(stderr, rejects, r) },
		Flush:    stderr,
	})
	err = runError(c.Context, st, err)
	if rejects != nil {
		if ferr := rejects.Flush(); ferr != nil && err == nil {
			err = cmdutil.Fatalf("--rejects: %v", ferr)
		}
	}
	stderr.Flush()
	passed := fmt.Sprintf("passed %d %s", st.Envelopes, cmdutil.Plural(st.Envelopes, "envelope"))
	if emitData {
		passed += fmt.Sprintf(" (%d data %s)", st.Written, cmdutil.Plural(st.Written, "line"))
	}
	summary(c, st, passed)
	if err != nil {
		return err
	}
	if st.Rejected > 0 {
		return cmdutil.Partial
	}
	return nil
}

// reportVerifyReject writes "hms-sign: line N: id ID: REASON: detail" on
// stderr, and the line's record on rejects when it is not nil.
func reportVerifyReject(stderr io.Writer, rejects *bufio.Writer, r signstream.Reject) {
	rec := signstream.RecordOf(r)
	id := ""
	if rec.ID != "" {
		id = "id " + rec.ID + ": "
	}
	fmt.Fprintf(stderr, "%s: line %d: %s%s: %s\n", name, rec.Line, id, rec.Reason, rec.Error)
	if rejects != nil {
		b, _ := json.Marshal(rec)
		rejects.Write(append(b, '\n'))
	}
}

// verifyCheck makes the check --scheme names, with its keys and limits.
func verifyCheck(c *cli.Context) (signstream.Check, error) {
	legacyScheme, err := isLegacy(c)
	if err != nil {
		return nil, err
	}
	maxAge, err := maxAgeFlag(c)
	if err != nil {
		return nil, err
	}
	if onCommandLine(c, "key", envKey) && onCommandLine(c, "keyring", envKeyring) {
		return nil, cmdutil.UsageErrorf(c, "--key and --keyring both given: verify with one of them")
	}
	if legacyScheme {
		if onCommandLine(c, "keyring", envKeyring) {
			return nil, cmdutil.UsageErrorf(c, "--scheme legacy takes --key FILE with the legacy key text, not --keyring")
		}
		if maxAge > 0 {
			return nil, cmdutil.UsageErrorf(c, "--max-age needs a time in the message: the legacy format has none")
		}
		if c.String("key") == "" {
			return nil, noKeyErr(c, "key")
		}
		key, err := loadLegacyKey(c)
		if err != nil {
			return nil, err
		}
		return signstream.CheckLegacy(key), nil
	}
	kr, err := loadKeyring(c)
	if err != nil {
		return nil, err
	}
	v := message.NewVerifier(kr)
	v.MaxAge = maxAge
	return signstream.CheckHMS(v), nil
}

// loadKeyring reads the keys of --keyring or --key: the one given on the
// command line, else the keyring.
func loadKeyring(c *cli.Context) (*message.Keyring, error) {
	var kr *message.Keyring
	var err error
	keyring, key := c.String("keyring"), c.String("key")
	switch {
	case key != "" && (keyring == "" || onCommandLine(c, "key", envKey)):
		var k *message.Key
		if k, err = message.LoadKey(key, warnings(c)); err == nil {
			kr, err = message.NewKeyring(k)
		}
	case keyring != "":
		kr, err = message.LoadKeyring(keyring, warnings(c))
	default:
		return nil, noKeyErr(c, "keyring")
	}
	if err != nil {
		return nil, cmdutil.Fatalf("%v", err)
	}
	return kr, nil
}

// maxAgeFlag reads --max-age (message.ParseMaxAge); 0 when it is not given.
func maxAgeFlag(c *cli.Context) (time.Duration, error) {
	if !c.IsSet("max-age") {
		return 0, nil
	}
	d, err := message.ParseMaxAge(c.String("max-age"))
	if err != nil {
		return 0, cmdutil.UsageErrorf(c, "invalid --max-age %v", err)
	}
	return d, nil
}
