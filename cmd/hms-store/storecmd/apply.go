package storecmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hms-toolkit/hms/pkg/cmdutil"
	"github.com/hms-toolkit/hms/pkg/gateway"
	"github.com/hms-toolkit/hms/pkg/gatewaystore"
	"github.com/hms-toolkit/hms/pkg/message"
	"github.com/hms-toolkit/hms/pkg/message/legacy"
)

const applyDescription = `The Artisan Gateway: each stdin line is a signed envelope asking to create,
update or delete an artisan, product or order; apply verifies it, checks it
against the gateway's rules, and stores the result in the collections
artisans, products and orders (_id = oid; created and modified set here).

   producer: ... | hms-sign sign --key co.key --operation create | hms-send --queue hms.gateway
   gateway:  hms-recv --queue hms.gateway --exec 'hms-store apply --keyring ring' --batch 100

The envelope's data is {"target": "artisan"|"product"|"order", "properties": {...}}.
Every envelope is verified here with --keyring, whatever was checked upstream;
the sender's origin, and for an artisan its oid, come from the key (its origin
and subject), never from the message. Who may do what, and the validation of
each field, are in docs/gateway.md.

A message is its key's id and its envelope id (kid, id), and it takes effect
at most once: redelivered after a crash, in the same batch or later, even
after its object was deleted and created again, it changes nothing. The
memory of applied messages is the collection "applied"; it grows by one
record per message, unless --max-age D refuses messages older than D and
so lets apply forget them (see docs/gateway.md).

A message that is refused (bad signature, unknown key, malformed, invalid
data, not allowed, unknown target or operation, no such object, an id its
key already used for another message) changes
nothing: it is reported on stderr and recorded with its reason and time in the
collection "rejected". Deleted objects are archived in "deleted".

--scheme legacy reads the Python hms_sys format with its one shared key
(--key FILE). That signature covers only data: the origin is taken from the
message and cannot be trusted, and artisans cannot be told apart, so an
artisan's ownership of records is not checked. Use it only to migrate.

Rejections are handled outcomes: the exit status is 0 when every line was
applied (or had been) or rejected, and 2 only when the database failed, on
usage errors; so 'hms-recv --exec' requeues the batch and it is retried.
SIGINT/SIGTERM stop apply between two lines: the line in progress is
finished (for up to --stop-grace), and the exit status is 130 or 143.`

func applyCommand() *cli.Command {
	return &cli.Command{
		Name:        "apply",
		Usage:       "verify signed create/update/delete messages and apply the Artisan Gateway's rules",
		UsageText:   "hms-store apply --keyring FILE [--uri URI] [--db DB] < envelopes",
		Description: applyDescription,
		Flags: append(connFlags(),
			&cli.StringFlag{Name: "keyring", EnvVars: []string{"HMS_KEYRING"},
				Usage: "verify envelopes with the keys in `FILE` (one or more key files concatenated)"},
			&cli.StringFlag{Name: "scheme", Value: "hms",
				Usage: "`SCHEME`: hms, or legacy for the Python hms_sys format (origin unauthenticated, see above)"},
			&cli.StringFlag{Name: "key", EnvVars: []string{"HMS_KEY_FILE"},
				Usage: "--scheme legacy: the shared legacy key text in `FILE`"},
			cmdutil.VerboseFlag("report every message and a summary on stderr"),
			&cli.StringFlag{Name: "max-age", Usage: "refuse messages signed more than `D` ago (or ahead), and forget applied ones " +
				"older than that, which bounds the memory of applied messages: 90s, 15m, 2h, 7d"},
			cmdutil.StopGraceFlag(),
		),
		Action: runApply,
	}
}

func runApply(c *cli.Context) error {
	if err := cmdutil.NoArgs(c, "apply reads stdin"); err != nil {
		return err
	}
	maxAge, err := applyMaxAge(c)
	if err != nil {
		return err
	}
	verify, err := applyVerifier(c)
	if err != nil {
		return err
	}
	cl, err := connect(c)
	if err != nil {
		return err
	}
	defer closeClient(cl)
	// A signal stops apply between two lines (c.Context); the database work
	// of the line in progress, its lease included, runs on for the grace.
	ctx, cancel := cmdutil.WorkContext(c.Context, c.Duration("stop-grace"))
	defer cancel()
	st := gatewaystore.New(cl.Database())
	st.MaxAge = maxAge
	log := slog.New(slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // journald and terminals add their own
			}
			return a
		},
	}))
	retried := func(err error) { log.Warn("retrying after a database error", "err", err) }
	if err := cl.Retry(ctx, st.EnsureIndexes, retried); err != nil {
		return cmdutil.Fatalf("database: %v", err)
	}
	if err := cl.Retry(ctx, func(ctx context.Context) error { _, err := st.Prune(ctx); return err }, retried); err != nil {
		return cmdutil.Fatalf("database: forgetting messages older than --max-age: %v", err)
	}

	var n, applied, again, rejected int

	stderr := c.App.ErrWriter
	report := func(lineNo int, line []byte, env gateway.Verified, req *gateway.Request, reason string) error {
		rejected++
		rec := gatewaystore.Rejection{Line: line, ID: env.ID, KID: env.KID, Operation: env.Operation,
			Origin: env.Who.Origin, Reason: reason}
		if req != nil {
			rec.Target, rec.OID = string(req.Target), req.OID
		} else {
			claimed(line, &rec)
		}
		idText := ""
		if rec.ID != "" {
			idText = " (id " + rec.ID + ")"
		}
		fmt.Fprintf(stderr, "hms-store: line %d%s: rejected: %s\n", lineNo, idText, reason)
		if err := cl.Retry(ctx, func(ctx context.Context) error { return st.Reject(ctx, rec) }, retried); err != nil {
			return cmdutil.Fatalf("line %d: recording the rejection: %v", lineNo, err).
				WithHint("the database failed; nothing after this line was applied, so the batch can be retried")
		}
		return nil
	}

	err = eachLine(c.App.Reader, message.MaxLineSize, func(line []byte, tooLong bool) error {
		if c.Context.Err() != nil {
			return cmdutil.Stopped(c.Context, "after line %d; the rest was not applied", n)
		}
		n++
		if tooLong {
			return report(n, line, gateway.Verified{}, nil, fmt.Sprintf("line longer than %d bytes", message.MaxLineSize))
		}
		env, req, err := verify.Read(line)
		if err != nil {
			return report(n, line, env, nil, err.Error())
		}
		var out gatewaystore.Outcome
		err = cl.Retry(ctx, func(ctx context.Context) error {
			out, err = st.Apply(ctx, env.MessageID, env.Who, req)
			return err
		}, retried)
		if err != nil {
			if c.Context.Err() != nil {
				return cmdutil.Stopped(c.Context, "line %d (id %s) was not applied (%v); the lines before it were", n, env.ID, context.Cause(ctx))
			}
			return cmdutil.Fatalf("line %d (id %s): database: %v", n, env.ID, err).
				WithHint("nothing after this line was applied; the batch can be retried safely (each id takes effect once)")
		}
		switch out.Result {
		case gatewaystore.Refused:
			return report(n, line, env, req, out.Reason)
		case gatewaystore.AlreadyApplied:
			again++
		default:
			applied++
		}
		if c.Bool("verbose") {
			fmt.Fprintf(stderr, "hms-store: line %d (id %s): %s %s %s %s: %s\n", n, env.ID, env.Who.Origin, req.Operation, req.Target, req.OID, out.Result)
		}
		return nil
	})
	if err != nil {
		var ce *cmdutil.Error
		if errors.As(err, &ce) {
			return err
		}
		return cmdutil.Fatalf("reading stdin: %v", err)
	}
	if c.Bool("verbose") {
		fmt.Fprintf(stderr, "hms-store: apply: %d read, %d applied, %d already applied, %d rejected\n", n, applied, again, rejected)
	}
	return nil
}

// applyVerifier builds the verifier for --scheme.
func applyVerifier(c *cli.Context) (gateway.Verifier, error) {
	switch c.String("scheme") {
	case "hms":
		path := c.String("keyring")
		if path == "" {
			return nil, cmdutil.Fatalf("no keyring").WithHint("give --keyring FILE (or HMS_KEYRING): apply verifies every envelope itself")
		}
		kr, err := message.LoadKeyring(path)
		if err != nil {
			return nil, cmdutil.Fatalf("%v", err)
		}
		return gateway.KeyringVerifier(kr), nil
	case "legacy":
		if c.String("keyring") != "" {
			return nil, cmdutil.Fatalf("--keyring is for hms envelopes; --scheme legacy takes the shared key with --key FILE")
		}
		path := c.String("key")
		if path == "" {
			return nil, cmdutil.Fatalf("--scheme legacy needs --key FILE (or HMS_KEY_FILE) with the shared legacy key")
		}
		key, err := readLegacyKeyFile(path)
		if err != nil {
			return nil, err
		}
		return gateway.LegacyVerifier(key), nil
	}
	return nil, cmdutil.Fatalf("unknown --scheme %q: want hms or legacy", c.String("scheme"))
}

// applyMaxAge reads --max-age (0 when not given).
func applyMaxAge(c *cli.Context) (time.Duration, error) {
	if !c.IsSet("max-age") {
		return 0, nil
	}
	if c.String("scheme") == "legacy" {
		return 0, cmdutil.UsageErrorf(c, "--max-age needs a time in the message: the legacy format has none")
	}
	d, err := message.ParseMaxAge(c.String("max-age"))
	if err != nil {
		return 0, cmdutil.UsageErrorf(c, "invalid --max-age %v", err)
	}
	return d, nil
}

// readLegacyKeyFile returns the legacy key text in path without a final
// newline, as hms-sign reads it.
func readLegacyKeyFile(path string) ([]byte, error) {
	b, err := legacy.LoadKey(path)
	if err != nil {
		return nil, cmdutil.Fatalf("%v", err).WithHint(legacy.KeyHint)
	}
	return b, nil
}

// claimed fills in what a refused line claims to be (not trusted: for the
// audit trail only), as far as it can be read.
func claimed(line []byte, r *gatewaystore.Rejection) {
	var m struct {
		ID, Origin, Operation, KID string
		Data                       struct {
			Target     string
			Properties struct {
				OID string
			}
		}
	}
	json.Unmarshal(line, &m) // best effort: whatever decodes
	for _, f := range []struct {
		dst *string
		v   string
	}{
		{&r.ID, m.ID}, {&r.Origin, m.Origin}, {&r.Operation, m.Operation}, {&r.KID, m.KID},
		{&r.Target, m.Data.Target}, {&r.OID, m.Data.Properties.OID},
	} {
		if *f.dst == "" && len(f.v) <= 200 {
			*f.dst = f.v
		}
	}
}

// eachLine calls fn with each line of r (without its newline or a final
// "\r"), the last one even without a newline. A line longer than max is
// passed cut at max bytes with tooLong set, the rest of it skipped, so memory
// stays bounded.
func eachLine(r io.Reader, max int, fn func(line []byte, tooLong bool) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) > max+2 { // room for "\r\n"
			take := min(len(chunk), max-len(buf))
			if take > 0 {
				buf = append(buf, chunk[:take]...)
			}
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if err != nil && err != io.EOF {
				return err
			}
			if ferr := fn(buf, true); ferr != nil {
				return ferr
			}
			buf = buf[:0]
			if err == io.EOF {
				return nil
			}
			continue
		}
		buf = append(buf, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && err != io.EOF {
			return err
		}
		if len(buf) > 0 {
			line := bytes.TrimSuffix(bytes.TrimSuffix(buf, []byte("\n")), []byte("\r"))
			if ferr := fn(line, len(line) > max); ferr != nil {
				return ferr
			}
		}
		buf = buf[:0]
		if err == io.EOF {
			return nil
		}
	}
}
