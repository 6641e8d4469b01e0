// Package signcmd is the command line of hms-sign. Main is separate from
// package main so the testscript harness can run it in-process.
package signcmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"github.com/hms-toolkit/hms/pkg/cmdutil"
	"github.com/hms-toolkit/hms/pkg/lines"
	"github.com/hms-toolkit/hms/pkg/message"
	"github.com/hms-toolkit/hms/pkg/message/legacy"
	"github.com/hms-toolkit/hms/pkg/strictjson"
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
	app.Commands = []*cli.Command{keygenCmd(), signCmd(), verifyCmd()}
	return cmdutil.Prepare(app)
}

var (
	keyFlag = &cli.StringFlag{
		Name: "key", Usage: "read the signing key from `FILE` (never from the command line)",
		EnvVars: []string{"HMS_KEY_FILE"},
	}
	schemeFlag = &cli.StringFlag{
		Name: "scheme", Value: "hms",
		Usage: "`SCHEME`: hms, or legacy for the Python hms_sys format (covers neither operation nor origin)",
	}
)

func keygenCmd() *cli.Command {
	return &cli.Command{
		Name:      "keygen",
		Usage:     "write a fresh random key to a new file (mode 0600)",
		UsageText: "hms-sign keygen --kid ID --origin ORIGIN [--subject OID] --out FILE",
		Description: `Writes one line: hms-key-v1 kid=ID origin=ORIGIN [subject=OID] secret=BASE64URL
with a 32-byte secret from the system's random source. The file must not
exist yet. Concatenate key files to make a keyring; delete a line to revoke.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "kid", Usage: "key `ID`, 1-64 of [A-Za-z0-9._-]; put a date in it to ease rotation"},
			&cli.StringFlag{Name: "origin", Usage: "the `ORIGIN` this key signs for: [a-z][a-z0-9-]* (artisan, central-office, worker, …)"},
			&cli.StringFlag{Name: "subject", Usage: "who within the origin the key speaks for, e.g. an artisan's `OID`"},
			&cli.StringFlag{Name: "out", Usage: "write the key to `FILE` (created with mode 0600)"},
		},
		Action: func(c *cli.Context) error {
			if err := cmdutil.Require(c, "kid", "origin", "out"); err != nil {
				return err
			}
			if c.NArg() > 0 {
				return usageErr(c, "unexpected argument %q", c.Args().First())
			}
			k, err := message.GenerateKey(c.String("kid"), c.String("origin"), c.String("subject"))
			if err != nil {
				return cmdutil.Fatalf("%v", err)
			}
			out := c.String("out")
			if err := message.WriteKeyFile(out, k); err != nil {
				if errors.Is(err, os.ErrExist) {
					return cmdutil.Fatalf("%s already exists", out).WithHint("keygen never overwrites a key; choose another --out")
				}
				return cmdutil.Fatalf("%v", err)
			}
			fmt.Fprintf(c.App.ErrWriter, "%s: wrote key %s to %s\n", name, k, out)
			return nil
		},
	}
}

// warnings has key-file warnings printed on c's stderr.
func warnings(c *cli.Context) message.LoadOption {
	return message.OnWarning(func(msg string) { fmt.Fprintf(c.App.ErrWriter, "%s: warning: %s\n", name, msg) })
}

func usageErr(c *cli.Context, format string, args ...any) error {
	return cmdutil.UsageErrorf(c, format, args...)
}

func signCmd() *cli.Command {
	return &cli.Command{
		Name:      "sign",
		Usage:     "sign each input line as one envelope",
		UsageText: "hms-sign sign --key FILE --operation OP [--raw] [--chunk N] < lines > envelopes",
		Description: `Each line of standard input is parsed as strict JSON and becomes the data
of one envelope; origin and kid come from the key. With --raw the line is
taken as a string instead. With --chunk N, N consecutive lines become one
envelope whose data is the array of them (the last may hold fewer).
A line that is not valid JSON (or, with --raw, not UTF-8) is reported on
stderr with its number and left out; the others are signed (exit status 1).

With --scheme legacy, --key FILE holds the legacy key text (its UTF-8 bytes,
without the final newline, are the key) and --origin sets the origin field,
which the legacy signature does not cover.`,
		Flags: []cli.Flag{
			keyFlag,
			&cli.StringFlag{Name: "operation", Usage: "the `OP` each envelope asks for (create, update, delete, factor, …)"},
			&cli.BoolFlag{Name: "raw", Usage: "take each line as a JSON string rather than parsing it"},
			&cli.IntFlag{Name: "chunk", Value: 1, Usage: "put `N` consecutive lines into one envelope, as an array"},
			schemeFlag,
			&cli.StringFlag{Name: "origin", Usage: "legacy scheme only: the `ORIGIN` field to write (hms takes it from the key)"},
		},
		Action: sign,
	}
}

func verifyCmd() *cli.Command {
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

With --scheme legacy, --key FILE holds the legacy key text and the book's
format is checked: only data is covered, so operation and origin are NOT
authenticated, and there is no replay or age check.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "keyring", Usage: "verify with the keys in `FILE` (key files concatenated)", EnvVars: []string{"HMS_KEYRING"}},
			&cli.StringFlag{
				Name: "key", Usage: "verify with the single key in `FILE` (and, for --scheme legacy, the legacy key text)",
				EnvVars: []string{"HMS_KEY_FILE"},
			},
			&cli.StringFlag{Name: "max-age", Usage: "reject envelopes signed more than `D` ago (or ahead): 90s, 15m, 2h, 7d"},
			&cli.StringFlag{Name: "rejects", Usage: "also write each rejected line to `FILE` as JSON: {line, id, reason, error, input}"},
			&cli.StringFlag{Name: "emit", Value: "envelope", Usage: "`WHAT` to write for valid lines: envelope, or data"},
			schemeFlag,
		},
		Action: verify,
	}
}

func scheme(c *cli.Context) (legacyScheme bool, err error) {
	switch s := c.String("scheme"); s {
	case "hms":
		return false, nil
	case "legacy":
		return true, nil
	default:
		return false, usageErr(c, "unknown --scheme %q: want hms or legacy", s)
	}
}

func noKeyErr(c *cli.Context, what string) error {
	return usageErr(c, "no %s given: use %s", what, map[string]string{
		"key":     "--key FILE or HMS_KEY_FILE",
		"keyring": "--keyring FILE or HMS_KEYRING (or --key FILE for a single key)",
	}[what])
}

// readLegacyKey returns the legacy key text in path, without a final newline.
func readLegacyKey(path string, warn message.LoadOption) ([]byte, error) {
	b, err := legacy.LoadKey(path, warn)
	if err != nil {
		e := cmdutil.Fatalf("%v", err)
		if strings.Contains(err.Error(), "an hms key") {
			e = e.WithHint("--scheme legacy wants a file holding the hms_sys key text itself")
		}
		return nil, e
	}
	return b, nil
}

type output struct {
	w *bufio.Writer
}

// flushers flushes each of its writers in turn.
type flushers []interface{ Flush() error }

func (fs flushers) Flush() error {
	for _, f := range fs {
		if err := f.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func newOutput(w io.Writer) *output { return &output{w: bufio.NewWriterSize(w, 64<<10)} }

// readError is the error for a failed read of the input, which may be a
// failed flush of the output before it (lines.FlushBeforeRead).
func readError(err error) error {
	var fe *lines.FlushError
	if errors.As(err, &fe) {
		if cmdutil.IsBrokenPipe(err) {
			return err
		}
		return cmdutil.Fatalf("%v", fe)
	}
	return cmdutil.Fatalf("reading input: %v", err)
}

func (o *output) flush(err error) error {
	if ferr := o.w.Flush(); err == nil && ferr != nil {
		if cmdutil.IsBrokenPipe(ferr) {
			return ferr
		}
		return cmdutil.Fatalf("writing output: %v", ferr)
	}
	return err
}

func sign(c *cli.Context) error {
	if err := cmdutil.Require(c, "operation"); err != nil {
		return err
	}
	if c.NArg() > 0 {
		return usageErr(c, "unexpected argument %q (input is read from stdin)", c.Args().First())
	}
	isLegacy, err := scheme(c)
	if err != nil {
		return err
	}
	op := c.String("operation")
	chunk := c.Int("chunk")
	if chunk < 1 {
		return usageErr(c, "--chunk must be at least 1")
	}
	if !message.ValidOperation(op) {
		return usageErr(c, "invalid --operation %q: want 1 to 64 of [A-Za-z0-9._-], starting with a letter", op)
	}
	keyPath := c.String("key")
	if keyPath == "" {
		return noKeyErr(c, "key")
	}
	var signLine func(dst, data []byte) ([]byte, error)
	if isLegacy {
		key, err := readLegacyKey(keyPath, warnings(c))
		if err != nil {
			return err
		}
		origin := c.String("origin")
		signLine = func(dst, data []byte) ([]byte, error) {
			b, err := legacy.Sign(op, origin, data, key)
			return append(dst, b...), err
		}
	} else {
		if c.IsSet("origin") {
			return usageErr(c, "--origin is for --scheme legacy; an hms envelope's origin comes from its key")
		}
		key, err := message.LoadKey(keyPath, warnings(c))
		if err != nil {
			return cmdutil.Fatalf("%v", err)
		}
		s, err := message.NewSigner(key)
		if err != nil {
			return cmdutil.Fatalf("%v", err)
		}
		signLine = func(dst, data []byte) ([]byte, error) {
			return s.AppendSign(dst, op, data, time.Now())
		}
	}

	out := newOutput(c.App.Writer)
	in := lines.NewReader(lines.FlushBeforeRead(c.App.Reader, out.w), message.MaxLineSize)
	raw := c.Bool("raw")
	var p strictjson.Parser
	var data, buf []byte
	var firstLine int64
	n, rejected := 0, false
	reject := func(line int64, format string, args ...any) {
		rejected = true
		fmt.Fprintf(c.App.ErrWriter, "%s: line %d: %s\n", name, line, fmt.Sprintf(format, args...))
	}
	rejectLines := func(first, last int64, err error) {
		rejected = true
		fmt.Fprintf(c.App.ErrWriter, "%s: lines %d-%d: %v\n", name, first, last, err)
	}
	emit := func() error {
		if n == 0 {
			return nil
		}
		if chunk > 1 {
			data = append(data, ']')
		}
		var err error
		buf, err = signLine(buf[:0], data)
		if err != nil {
			if chunk > 1 {
				rejectLines(firstLine, in.Line(), err)
			} else {
				reject(firstLine, "%v", err)
			}
		} else {
			buf = append(buf, '\n')
			if _, err := out.w.Write(buf); err != nil {
				return err
			}
		}
		n, data = 0, data[:0]
		return nil
	}
	for {
		line, err := in.Next()
		if err == io.EOF {
			break
		}
		var tl *lines.TooLongError
		if errors.As(err, &tl) {
			reject(in.Line(), "%v", tl)
			continue
		}
		if err != nil {
			return out.flush(readError(err))
		}
		if n == 0 {
			firstLine = in.Line()
			if chunk > 1 {
				data = append(data[:0], '[')
			}
		}
		if chunk == 1 && !raw {
			// The common case: the signer parses the line itself, once.
			if buf, err = signLine(buf[:0], line); err != nil {
				if u := errors.Unwrap(err); u != nil {
					err = u // "data: " says nothing here: the line is the data
				}
				if len(bytes.TrimSpace(line)) == 0 {
					reject(in.Line(), "empty line is not JSON (use --raw to sign lines as strings)")
				} else {
					reject(in.Line(), "%v", err)
				}
				continue
			}
			buf = append(buf, '\n')
			if _, err := out.w.Write(buf); err != nil {
				return out.flush(err)
			}
			continue
		}
		mark := len(data)
		if n > 0 {
			data = append(data, ',')
		}
		if raw {
			if !utf8.Valid(line) {
				data = data[:mark]
				reject(in.Line(), "not valid UTF-8")
				continue
			}
			data = strictjson.AppendString(data, string(line))
		} else {
			data, err = p.AppendCanonical(data, line)
			if err != nil {
				data = data[:mark]
				if len(bytes.TrimSpace(line)) == 0 {
					reject(in.Line(), "empty line is not JSON (use --raw to sign lines as strings)")
				} else {
					reject(in.Line(), "%v", err)
				}
				continue
			}
		}
		n++
		if n == chunk {
			if err := emit(); err != nil {
				return out.flush(err)
			}
		}
	}
	if err := emit(); err != nil {
		return out.flush(err)
	}
	if err := out.flush(nil); err != nil {
		return err
	}
	if rejected {
		return cmdutil.Partial
	}
	return nil
}

// parseAge parses a Go duration, or a whole number of days such as 7d.
func parseAge(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err == nil && n > 0 && n < 100000 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("invalid --max-age %q: want a positive duration such as 90s, 15m, 2h or 7d", s)
	}
	return d, nil
}

type rejectRecord struct {
	Line        int64  `json:"line"`
	ID          string `json:"id,omitempty"`
	Reason      string `json:"reason"`
	Error       string `json:"error"`
	Input       string `json:"input,omitempty"`        // the line, when it is UTF-8
	InputBase64 string `json:"input_base64,omitempty"` // the line, when it is not
	Length      int64  `json:"length"`
}

func verify(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageErr(c, "unexpected argument %q (input is read from stdin)", c.Args().First())
	}
	isLegacy, err := scheme(c)
	if err != nil {
		return err
	}
	emitData := false
	switch e := c.String("emit"); e {
	case "envelope":
	case "data":
		emitData = true
	default:
		return usageErr(c, "unknown --emit %q: want envelope or data", e)
	}
	var maxAge time.Duration
	if s := c.String("max-age"); s != "" {
		if maxAge, err = parseAge(s); err != nil {
			return usageErr(c, "%v", err)
		}
	}

	var check func(line []byte) (data []byte, err error)
	if isLegacy {
		// HMS_KEYRING in the environment is for the hms scheme: only an
		// explicit --keyring is a mistake here.
		if kr := c.String("keyring"); kr != "" && kr != os.Getenv("HMS_KEYRING") {
			return usageErr(c, "--scheme legacy takes --key FILE with the legacy key text, not --keyring")
		}
		if maxAge > 0 {
			return usageErr(c, "--max-age needs a time in the message: the legacy format has none")
		}
		if c.String("key") == "" {
			return noKeyErr(c, "key")
		}
		key, err := readLegacyKey(c.String("key"), warnings(c))
		if err != nil {
			return err
		}
		check = func(line []byte) ([]byte, error) {
			m, err := legacy.Verify(line, key)
			if err != nil {
				return nil, err
			}
			return m.Data, nil
		}
	} else {
		var kr *message.Keyring
		switch {
		case c.String("keyring") != "":
			kr, err = message.LoadKeyring(c.String("keyring"), warnings(c))
		case c.String("key") != "":
			var k *message.Key
			if k, err = message.LoadKey(c.String("key"), warnings(c)); err == nil {
				kr, err = message.NewKeyring(k)
			}
		default:
			return noKeyErr(c, "keyring")
		}
		if err != nil {
			return cmdutil.Fatalf("%v", err)
		}
		v := message.NewVerifier(kr)
		v.MaxAge = maxAge
		check = func(line []byte) ([]byte, error) {
			data, _, err := v.Check(line)
			return data, err
		}
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

	out := newOutput(c.App.Writer)
	// Valid envelopes and the reasons for rejected ones go out before
	// verify waits for more input, so a never-ending stream keeps moving.
	in := lines.NewReader(lines.FlushBeforeRead(c.App.Reader, flushers{out.w, stderr}), message.MaxLineSize)
	rejected := false
	reject := func(lineNo int64, line []byte, length int64, err error) error {
		rejected = true
		rec := rejectRecord{Line: lineNo, Length: length, Error: err.Error(), Reason: string(message.ReasonMalformed)}
		var ve *message.VerifyError
		var tl *lines.TooLongError
		switch {
		case errors.As(err, &ve):
			rec.ID, rec.Reason, rec.Error = ve.ID, string(ve.Reason), ve.Err.Error()
		case errors.As(err, &tl):
			rec.Reason, rec.Error = string(message.ReasonTooLong), tl.Error()
		}
		id := ""
		if rec.ID != "" {
			id = "id " + rec.ID + ": "
		}
		fmt.Fprintf(stderr, "%s: line %d: %s%s: %s\n", name, lineNo, id, rec.Reason, rec.Error)
		if rejects == nil {
			return nil
		}
		if line != nil {
			if utf8.Valid(line) {
				rec.Input = string(line)
			} else {
				rec.InputBase64 = base64.StdEncoding.EncodeToString(line)
			}
		}
		b, _ := json.Marshal(rec)
		rejects.Write(append(b, '\n'))
		return nil
	}
	emitElem := func(e []byte) error {
		out.w.Write(e)
		return out.w.WriteByte('\n')
	}
	var runErr error
	for {
		line, err := in.Next()
		if err == io.EOF {
			break
		}
		var tl *lines.TooLongError
		if errors.As(err, &tl) {
			reject(in.Line(), nil, tl.Len, err)
			continue
		}
		if err != nil {
			runErr = readError(err)
			break
		}
		if len(line) == 0 {
			reject(in.Line(), line, 0, &message.VerifyError{Reason: message.ReasonMalformed, Err: errors.New("empty line")})
			continue
		}
		data, err := check(line)
		if err != nil {
			reject(in.Line(), line, int64(len(line)), err)
			continue
		}
		if !emitData {
			out.w.Write(line)
			err = out.w.WriteByte('\n')
		} else if strictjson.KindOf(data) == strictjson.Array {
			err = strictjson.SplitArray(data, emitElem)
		} else {
			err = emitElem(data)
		}
		if err != nil {
			runErr = err
			break
		}
	}
	runErr = out.flush(runErr)
	if rejects != nil {
		if err := rejects.Flush(); err != nil && runErr == nil {
			runErr = cmdutil.Fatalf("--rejects: %v", err)
		}
	}
	if runErr != nil {
		return runErr
	}
	if rejected {
		return cmdutil.Partial
	}
	return nil
}
