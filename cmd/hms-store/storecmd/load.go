package storecmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/hms-toolkit/hms/pkg/cmdutil"
	"github.com/hms-toolkit/hms/pkg/store"
)

func collectionFlag() cli.Flag {
	return &cli.StringFlag{Name: "collection", Aliases: []string{"c"}, Required: true,
		Usage: "collection `NAME`"}
}

func loadFlags() []cli.Flag {
	return append(connFlags(), collectionFlag(),
		&cli.IntFlag{Name: "batch", Value: 1000, Usage: "write `N` documents per bulk write"},
	)
}

func insertCommand() *cli.Command {
	return &cli.Command{
		Name:      "insert",
		Usage:     "store each JSON line of stdin as a document; already stored ones are left as they are",
		ArgsUsage: " ",
		Description: `Each line is a JSON object. Its _id is the value of --id-field, else the
line's own _id, else an id computed from its content, so storing the same
record again counts as "already present" and changes nothing. Lines that
are not JSON objects or have keys starting with '$' or containing '.' are
rejected (named on stderr); the rest is stored. A summary goes to stderr.`,
		Flags: append(loadFlags(),
			&cli.StringFlag{Name: "id-field", Usage: "use top-level `FIELD` as the document's _id"},
			&cli.BoolFlag{Name: "new-ids", Usage: "give lines without an _id a new ObjectId, not one computed from their content\n\t(faster on FerretDB; storing the same input again then stores it twice)"},
		),
		Action: func(c *cli.Context) error {
			if c.IsSet("id-field") && c.Bool("new-ids") {
				return cmdutil.Fatalf("--id-field and --new-ids exclude each other")
			}
			return load(c, store.LoadOptions{Mode: store.Insert, IDField: c.String("id-field"), NewIDs: c.Bool("new-ids")})
		},
	}
}

func upsertCommand() *cli.Command {
	return &cli.Command{
		Name:      "upsert",
		Usage:     "store each JSON line of stdin as the new state of the record with its key",
		ArgsUsage: " ",
		Description: `Each line is a JSON object identified by its --key fields. --mode replace
(default) makes the line the whole document; --mode merge sets the line's
top-level fields and keeps the others. New keys are inserted in bulk; a
unique index on the key fields (created if missing) tells which keys exist,
and only those cost a per-document update.`,
		Flags: append(loadFlags(),
			&cli.StringFlag{Name: "key", Required: true, Usage: "top-level `FIELDS` F[,G...] that identify a record"},
			&cli.StringFlag{Name: "mode", Value: "replace", Usage: "`MODE`: replace (the line becomes the whole document) or merge (set the line's fields, keep the others)"},
			&cli.BoolFlag{Name: "no-index", Usage: "do not create the unique index on the key (every line is then a slow single upsert)"},
		),
		Action: func(c *cli.Context) error {
			o := store.LoadOptions{Keys: splitList(c.String("key")), NoIndex: c.Bool("no-index")}
			switch c.String("mode") {
			case "replace":
				o.Mode = store.Replace
			case "merge":
				o.Mode = store.Merge
			default:
				return cmdutil.Fatalf("--mode must be replace or merge, not %q", c.String("mode")).
					WithHint("see 'hms-store upsert --help'")
			}
			if len(o.Keys) == 0 {
				return cmdutil.Fatalf("--key names no field")
			}
			return load(c, o)
		},
	}
}

func load(c *cli.Context, o store.LoadOptions) error {
	if c.NArg() > 0 {
		return cmdutil.Fatalf("unexpected argument %q (input is read from stdin)", c.Args().First()).
			WithHint("hms-store " + c.Command.Name + " -c COLLECTION < records.jsonl")
	}
	o.Collection = c.String("collection")
	if err := store.CheckCollectionName(o.Collection); err != nil {
		return cmdutil.Fatalf("--collection: %v", err)
	}
	o.Batch = c.Int("batch")
	if o.Batch <= 0 {
		return cmdutil.Fatalf("--batch must be positive")
	}
	name := c.App.Name
	errw := bufio.NewWriter(c.App.ErrWriter)
	defer errw.Flush()
	o.Report = func(e store.LineError) { fmt.Fprintf(errw, "%s: %v\n", name, e) }
	retrying := false
	o.OnRetry = func(err error) {
		if !retrying {
			fmt.Fprintf(errw, "%s: write failed, retrying for up to %v: %v\n", name, c.Duration(flagRetryFor), err)
			errw.Flush()
			retrying = true
		}
	}
	o.Progress = func(store.Stats) {
		if retrying {
			fmt.Fprintf(errw, "%s: writing again\n", name)
			retrying = false
		}
		errw.Flush()
	}

	cl, err := connect(c)
	if err != nil {
		return err
	}
	defer closeClient(cl)
	// SIGINT/SIGTERM: stop reading, store what was read, print the summary.
	ctx := c.Context
	st, err := cl.Load(ctx, c.App.Reader, o)
	summary := fmt.Sprintf("%s: read %d, inserted %d", name, st.Read, st.Inserted)
	if o.Mode != store.Insert {
		summary += fmt.Sprintf(", updated %d", st.Updated)
	}
	summary += fmt.Sprintf(", already present %d, rejected %d, failed %d", st.Present, st.Rejected, st.Failed)
	if err != nil {
		fmt.Fprintln(errw, summary)
		e := cmdutil.Fatalf("%v", err)
		switch {
		case errors.Is(err, store.ErrIndex):
			return e.WithHint("remove the duplicate keys, or pass --no-index")
		case errors.Is(err, context.Canceled) && st.Failed == 0:
			return cmdutil.Stopped(ctx, "stopped reading; every line read was handled")
		case errors.Is(err, context.Canceled):
			return cmdutil.Stopped(ctx, "%d %s read were not stored", st.Failed, cmdutil.Plural(st.Failed, "line"))
		case st.Failed > 0:
			return e.WithHint(fmt.Sprintf("%d %s read were not stored; run again with the same input, what is stored counts as already present", st.Failed, cmdutil.Plural(st.Failed, "line")))
		}
		return e
	}
	fmt.Fprintln(errw, summary)
	if st.Rejected+st.Failed > 0 {
		return cmdutil.Partial
	}
	return nil
}
