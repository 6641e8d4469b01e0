// Package storecmd is the command line of hms-store. Main is separate from
// package main so the testscript harness can run it in-process.
//
// Subcommands live one per file. A file adds its own with an init that
// appends to extraCommands, and reuses the connection flags and connect:
//
//	func init() { extraCommands = append(extraCommands, applyCommand()) }
//
//	func applyCommand() *cli.Command {
//		return &cli.Command{
//			Name:  "apply",
//			Flags: append(connFlags(), &cli.StringFlag{Name: "..."}),
//			Action: func(c *cli.Context) error {
//				cl, err := connect(c) // a *cmdutil.Error (exit 2) if unreachable
//				if err != nil {
//					return err
//				}
//				defer cl.Close(context.Background())
//				...
//			},
//		}
//	}
package storecmd

import (
	"context"
	"errors"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hms-toolkit/hms/pkg/cmdutil"
	"github.com/hms-toolkit/hms/pkg/store"
)

// extraCommands are the subcommands defined in this package's files; each
// file appends its own in init. Main sorts them by name.
var extraCommands []*cli.Command

const usage = "persist JSON lines into MongoDB idempotently, and read them back"

// Main runs hms-store with os.Args and returns its exit status.
func Main() int {
	app := cmdutil.NewApp("hms-store", usage)
	app.Description = `Each line of stdin is a JSON object, stored as one document; find prints
documents as JSON lines. The same JSON values come back: see docs/hms-store.md
for the exact JSON/BSON mapping. Connection: --uri or MONGODB_URI; the
database is --db, else the one named in the URI path, else "hms".`
	cmds := append([]*cli.Command(nil), extraCommands...)
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name < cmds[j].Name })
	app.Commands = cmds
	for _, c := range cmds {
		if c.CustomHelpTemplate == "" {
			c.CustomHelpTemplate = cli.CommandHelpTemplate + cmdutil.ExitCodesHelp + "\n"
		}
	}
	return cmdutil.Run(app, os.Args)
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
			Usage: "retry transient errors (server restart, network, stepdown) for up to `D` before giving up"},
		&cli.DurationFlag{Name: flagConnectFor, Value: 10 * time.Second,
			Usage: "give up on an unreachable server after `D`"},
	}
}

// connect connects with the flags of connFlags. Its error is a
// *cmdutil.Error (exit status 2) with a hint, ready to return from an Action.
func connect(c *cli.Context) (*store.Client, error) {
	o := store.Options{
		URI:            c.String(flagURI),
		DB:             c.String(flagDB),
		W:              c.String(flagW),
		ConnectTimeout: c.Duration(flagConnectFor),
		RetryFor:       c.Duration(flagRetryFor),
	}
	if c.IsSet(flagJournal) {
		j := c.Bool(flagJournal)
		o.Journal = &j
	}
	if o.ConnectTimeout <= 0 {
		return nil, cmdutil.Fatalf("--%s must be positive", flagConnectFor)
	}
	if o.RetryFor < 0 {
		return nil, cmdutil.Fatalf("--%s must not be negative", flagRetryFor)
	}
	cl, err := store.Connect(c.Context, o)
	if err != nil {
		e := cmdutil.Fatalf("%v", err)
		if errors.Is(err, store.ErrUnreachable) {
			return nil, e.WithHint("is the server running? Set --uri or MONGODB_URI; for a dev server run scripts/devdb.sh start")
		}
		return nil, e
	}
	return cl, nil
}

// closeClient disconnects, for defer.
func closeClient(cl *store.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
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
