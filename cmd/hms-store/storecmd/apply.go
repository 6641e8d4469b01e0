package storecmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hms-toolkit/hms/pkg/clilog"
	"github.com/hms-toolkit/hms/pkg/cmdutil"
	"github.com/hms-toolkit/hms/pkg/gateway"
	"github.com/hms-toolkit/hms/pkg/gatewaystore"
	"github.com/hms-toolkit/hms/pkg/lines"
	"github.com/hms-toolkit/hms/pkg/message"
	"github.com/hms-toolkit/hms/pkg/message/legacy"
	"github.com/hms-toolkit/hms/pkg/store"
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
SIGINT/SIGTERM stop apply between two lines, at once even while it waits
for input: the line in progress is finished (for up to --stop-grace; a
second signal cuts it short), and the exit status is 130 or 143 unless all
the input had been applied.`

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
			cmdutil.VerboseFlag("report every message, a line taking the database more than 5s, and a summary on stderr"),
			cmdutil.ProgressFlag("show lines read, applied and rejected, the rate, and how long the database has been busy (on a terminal)"),
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
	out := newConsole(c)
	log, err := clilog.New(c.App.Name, out, "text", slog.LevelInfo)
	if err != nil {
		return err
	}
	a := &applier{c: c, ctx: ctx, cl: cl, st: gatewaystore.New(cl.Database()), verify: verify, out: out, log: log}
	a.st.MaxAge = maxAge
	if err := a.db(0, "", a.st.EnsureIndexes); err != nil {
		return cmdutil.Fatalf("database: %v", err)
	}
	if err := a.db(0, "", func(ctx context.Context) error { _, err := a.st.Prune(ctx); return err }); err != nil {
		return cmdutil.Fatalf("database: forgetting messages older than --max-age: %v", err)
	}
	defer out.noticeStop(c, func() bool { return a.busySince.Load() != 0 }, "the line in progress gets up to %v to finish")()
	stopProgress := out.startProgress(c, a.done.Load, "line", a.status)
	err = a.run()
	stopProgress()
	if err != nil {
		return err
	}
	if c.Bool("verbose") {
		out.printf("apply: %d read, %d applied, %d already applied, %d rejected", a.n, a.applied.Load(), a.again.Load(), a.rejected.Load())
	}
	return nil
}

// applier applies the lines of stdin one by one.
type applier struct {
	c      *cli.Context
	ctx    context.Context // for the database: runs on for the grace after a signal
	cl     *store.Client
	st     *gatewaystore.Store
	verify gateway.Verifier
	out    *console
	log    *slog.Logger

	n                                    int64        // the line in hand
	read, done, applied, again, rejected atomic.Int64 // for the progress line
	busySince                            atomic.Int64 // Unix ns, 0: not waiting for the database
}

// run reads stdin line by line, stopping between two lines at a signal,
// even while a read blocks.
func (a *applier) run() error {
	in := lines.NewFeed(lines.New(a.c.App.Reader, lines.Options{
		Max: message.MaxLineSize, TrimCR: true, KeepPrefix: message.MaxLineSize}), 1<<20)
	defer in.Close()
	stop := a.c.Context
	for {
		ln, err := in.Next(stop)
		switch {
		case err == io.EOF:
			return nil
		case stop.Err() != nil:
			return cmdutil.Stopped(stop, "after line %d; the rest was not applied", a.n).
				WithHint(fmt.Sprintf("the input from line %d on is to be applied again (each id takes effect once)", a.n+1))
		case err != nil:
			return cmdutil.Fatalf("reading stdin: %v", err)
		}
		a.n = ln.Num
		a.read.Store(ln.Num)
		if err := a.line(ln.Text, ln.Err != nil); err != nil {
			return err
		}
		a.done.Add(1)
	}
}

// line verifies, checks and applies one line (cut at the maximum size
// when tooLong); its error ends the run.
func (a *applier) line(line []byte, tooLong bool) error {
	if tooLong {
		return a.reject(line, gateway.Verified{}, nil, fmt.Sprintf("line longer than %d bytes", message.MaxLineSize))
	}
	env, req, err := a.verify.Read(line)
	if err != nil {
		return a.reject(line, env, nil, err.Error())
	}
	var out gatewaystore.Outcome
	err = a.db(a.n, env.ID, func(ctx context.Context) error {
		out, err = a.st.Apply(ctx, env.MessageID, env.Who, req)
		return err
	})
	if err != nil {
		return a.failed(env, err)
	}
	switch out.Result {
	case gatewaystore.Refused:
		return a.reject(line, env, req, out.Reason)
	case gatewaystore.AlreadyApplied:
		a.again.Add(1)
	default:
		a.applied.Add(1)
	}
	if a.c.Bool("verbose") {
		a.out.printf("line %d (id %s): %s %s %s %s: %s", a.n, env.ID, env.Who.Origin, req.Operation, req.Target, req.OID, out.Result)
	}
	return nil
}

// failed is the error of a line the database could not apply.
func (a *applier) failed(env gateway.Verified, err error) error {
	if a.c.Context.Err() != nil {
		return cmdutil.Stopped(a.c.Context, "line %d (id %s) was cut short (%v): it may or may not have taken effect; the lines before it were applied",
			a.n, env.ID, context.Cause(a.ctx)).
			WithHint(fmt.Sprintf("the input from line %d on is to be applied again (each id takes effect once)", a.n))
	}
	return cmdutil.Fatalf("line %d (id %s): database: %v", a.n, env.ID, err).
		WithHint("nothing after this line was applied; the batch can be retried safely (each id takes effect once)")
}

// reject reports a refused line and records it in the collection rejected.
func (a *applier) reject(line []byte, env gateway.Verified, req *gateway.Request, reason string) error {
	a.rejected.Add(1)
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
	a.out.printf("line %d%s: rejected: %s", a.n, idText, reason)
	if err := a.db(a.n, rec.ID, func(ctx context.Context) error { return a.st.Reject(ctx, rec) }); err != nil {
		return cmdutil.Fatalf("line %d: recording the rejection: %v", a.n, err).
			WithHint("the database failed; nothing after this line was applied, so the batch can be retried")
	}
	return nil
}

// db runs op for line num (0: none) on the database, retried, keeping the
// progress line's clock and telling of a slow line with -v.
func (a *applier) db(num int64, id string, op func(context.Context) error) error {
	start := time.Now()
	a.busySince.Store(start.UnixNano())
	defer a.busySince.Store(0)
	if a.c.Bool("verbose") && num > 0 {
		t := time.AfterFunc(slowAfter, func() {
			a.out.printf("line %d (id %s): waiting for the database for %v", num, id, time.Since(start).Round(time.Second))
			a.out.slowHint(true)
		})
		defer func() {
			if !t.Stop() {
				a.out.printf("line %d (id %s): the database took %v", num, id, time.Since(start).Round(time.Second/10))
			}
		}()
	}
	return a.cl.Retry(a.ctx, op, func(err error) { a.log.Warn("retrying after a database error", "err", err) })
}

// slowAfter is when -v tells of a write that waits for the server.
const slowAfter = 5 * time.Second

func (a *applier) status() string {
	var wait time.Duration
	if t := a.busySince.Load(); t != 0 {
		wait = time.Since(time.Unix(0, t))
	}
	return fmt.Sprintf("%s: read %d, applied %d, already applied %d, rejected %d%s",
		a.c.App.Name, a.read.Load(), a.applied.Load(), a.again.Load(), a.rejected.Load(), waitingText(wait))
}

// applyVerifier builds the verifier for --scheme.
func applyVerifier(c *cli.Context) (gateway.Verifier, error) {
	switch c.String("scheme") {
	case "hms":
		path := c.String("keyring")
		if path == "" {
			return nil, cmdutil.Fatalf("no keyring").WithHint("give --keyring FILE (or HMS_KEYRING): apply verifies every envelope itself")
		}
		kr, err := message.LoadKeyring(path, keyWarnings(c))
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
		key, err := readLegacyKeyFile(path, keyWarnings(c))
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

// keyWarnings has key-file warnings (a key others can read) printed on
// c's stderr.
func keyWarnings(c *cli.Context) message.LoadOption {
	return message.OnWarning(cmdutil.Warner(c))
}

// readLegacyKeyFile returns the legacy key text in path without a final
// newline, as hms-sign reads it.
func readLegacyKeyFile(path string, warn message.LoadOption) ([]byte, error) {
	b, err := legacy.LoadKey(path, warn)
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
