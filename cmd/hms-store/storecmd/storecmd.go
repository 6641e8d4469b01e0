// Package storecmd is the command line of hms-store, one file per
// subcommand (insert and upsert in load.go, find, apply), each a function
// returning its *cli.Command that App lists. They share the connection
// flags (connFlags) and connect.
package storecmd

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hms-toolkit/hms/pkg/cmdutil"
	"github.com/hms-toolkit/hms/pkg/store"
	"github.com/hms-toolkit/hms/pkg/version"
)

const usage = "persist JSON lines into MongoDB idempotently, and read them back"

// Main runs hms-store as the process.
func Main() int { return cmdutil.Main(Run) }

// Run runs hms-store with args on the given streams; ctx ends it as SIGINT does.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return cmdutil.RunApp(ctx, App(), args, stdin, stdout, stderr)
}

// App is the definition of hms-store: its subcommands, flags and help.
func App() *cli.App {
	app := cmdutil.NewApp("hms-store", usage)
	app.Description = `Each line of stdin is a JSON object, stored as one document; find prints
documents as JSON lines. The same JSON values come back: see docs/hms-store.md
for the exact JSON/BSON mapping. Connection: --uri or MONGODB_URI; the
database is --db, else the one named in the URI path, else "hms".`
	app.Commands = []*cli.Command{applyCommand(), findCommand(), insertCommand(), upsertCommand()}
	return cmdutil.Prepare(app)
}

// Connection flag names, for commands that read them.
const (
	flagURI        = "uri"
	flagDB         = "db"
	flagW          = "w"
	flagJournal    = "journal"
	flagRetryFor   = "retry-for"
	flagConnectFor = "connect-timeout"
)

// connFlags returns fresh copies of the flags every command that talks to
// the server takes: --uri (or MONGODB_URI), --db, --w, --journal,
// --retry-for and --connect-timeout. Read them with connect.
func connFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: flagURI, EnvVars: []string{"MONGODB_URI"}, Value: store.DefaultURI,
			Usage: "MongoDB connection `URI`"},
		&cli.StringFlag{Name: flagDB,
			Usage: "use `DATABASE` (default: the one in the URI path, else \"" + store.DefaultDB + "\")"},
		&cli.StringFlag{Name: flagW,
			Usage: "write concern: `N` nodes, \"majority\" or a tag set (default: the server's)"},
		&cli.BoolFlag{Name: flagJournal,
			Usage: "acknowledge writes only once they are in the on-disk journal"},
		&cli.DurationFlag{Name: flagRetryFor, Value: 30 * time.Second,
			Usage: "retry transient errors (server restart, network, stepdown, a server that stops answering) for up to `D` before giving up"},
		&cli.DurationFlag{Name: flagConnectFor, Value: 10 * time.Second,
			Usage: "give up on an unreachable server after `D`; a server silent that long while it works counts as unreachable"},
	}
}

// connect connects with the flags of connFlags. Its error is a
// *cmdutil.Error (exit status 2, or 128+signal when a signal came while it
// waited) with a hint, ready to return from an Action.
func connect(c *cli.Context) (*store.Client, error) {
	o, err := connOptions(c)
	if err != nil {
		return nil, err
	}
	cl, err := store.Connect(c.Context, o)
	switch {
	case err == nil:
		return cl, nil
	case cmdutil.StopSignal(c.Context) != nil:
		return nil, cmdutil.Stopped(c.Context, "while connecting, before reading any input")
	case errors.Is(err, store.ErrUnreachable):
		return nil, cmdutil.Fatalf("%v", err).
			WithHint("is the server running? Set --uri or MONGODB_URI; for a dev server run scripts/devdb.sh start")
	}
	return nil, cmdutil.Fatalf("%v", err)
}

// connOptions reads the flags of connFlags, checking them and the
// database's name before anything is read.
func connOptions(c *cli.Context) (store.Options, error) {
	o := store.Options{
		URI:            c.String(flagURI),
		DB:             c.String(flagDB),
		W:              c.String(flagW),
		ConnectTimeout: c.Duration(flagConnectFor),
		RetryFor:       c.Duration(flagRetryFor),
		AppName:        "hms-store/" + version.Short(),
	}
	if c.IsSet(flagJournal) {
		j := c.Bool(flagJournal)
		o.Journal = &j
	}
	if o.ConnectTimeout <= 0 {
		return o, cmdutil.UsageErrorf(c, "--%s must be positive", flagConnectFor)
	}
	if o.RetryFor < 0 {
		return o, cmdutil.UsageErrorf(c, "--%s must not be negative", flagRetryFor)
	}
	if err := store.CheckDBName(o.Database()); err != nil {
		e := cmdutil.Fatalf("--db: %v", err)
		if o.DB == "" {
			e = cmdutil.Fatalf("the database in the URI path: %v", err).WithHint(
				"give --db NAME; the URI path is the default database (to authenticate against admin, add ?authSource=admin)")
		}
		return o, e
	}
	return o, nil
}

// checkCollection checks --collection (required) and its namespace.
func checkCollection(c *cli.Context) (string, error) {
	if err := cmdutil.Require(c, "collection"); err != nil {
		return "", err
	}
	coll := c.String("collection")
	if err := store.CheckCollectionName(coll); err != nil {
		return "", cmdutil.Fatalf("--collection: %v", err)
	}
	o, err := connOptions(c)
	if err != nil {
		return "", err
	}
	if err := store.CheckNamespace(o.Database(), coll); err != nil {
		return "", cmdutil.Fatalf("--collection: %v", err)
	}
	return coll, nil
}

// closeClient disconnects, for defer: briefly, since a server that stopped
// answering would hold the exit up.
func closeClient(cl *store.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	cl.Close(ctx)
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
