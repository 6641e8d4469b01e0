package storecmd

import (
	"bufio"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/hms-toolkit/hms/pkg/cmdutil"
	"github.com/hms-toolkit/hms/pkg/store"
)

func findCommand() *cli.Command {
	return &cli.Command{
		Name:      "find",
		Usage:     "print documents as JSON lines",
		ArgsUsage: " ",
		Description: `Prints the documents of a collection that match --filter, one JSON object
per line, so that what insert stored comes back as the same JSON values.
The _id is printed unless it is an ObjectId (ids hms-store computed or a
server generated, which are not part of the record): --id prints it always,
--no-id never; with --fields, _id is printed only when listed.

  hms-store find -c results --filter '{"n": {"$gte": 100}}' --sort -n --limit 10`,
		Flags: append(connFlags(), collectionFlag(),
			&cli.StringFlag{Name: "filter", Usage: "query as `JSON`, operators allowed, e.g. '{\"n\": {\"$gt\": 5}}'"},
			&cli.StringFlag{Name: "sort", Usage: "sort by `FIELDS` F[,-G...] (- for descending), or a JSON sort document"},
			&cli.Int64Flag{Name: "limit", Usage: "print at most `N` documents (0: all)"},
			&cli.StringFlag{Name: "fields", Usage: "print only these top-level or dotted `FIELDS` F[,G...]"},
			&cli.BoolFlag{Name: "id", Usage: "always print _id"},
			&cli.BoolFlag{Name: "no-id", Usage: "never print _id"},
		),
		Action: find,
	}
}

func find(c *cli.Context) error {
	if c.NArg() > 0 {
		return cmdutil.Fatalf("unexpected argument %q", c.Args().First()).
			WithHint("the query goes in --filter")
	}
	q := store.Query{Collection: c.String("collection"), Limit: c.Int64("limit")}
	if err := store.CheckCollectionName(q.Collection); err != nil {
		return cmdutil.Fatalf("--collection: %v", err)
	}
	if q.Limit < 0 {
		return cmdutil.Fatalf("--limit must not be negative")
	}
	var err error
	if f := c.String("filter"); f != "" {
		if q.Filter, err = store.ParseJSON(nil, []byte(f), store.Operators); err != nil {
			return cmdutil.Fatalf("--filter: %v", err)
		}
	}
	if s := strings.TrimSpace(c.String("sort")); strings.HasPrefix(s, "{") {
		if q.Sort, err = store.ParseJSON(nil, []byte(s), store.Operators); err != nil {
			return cmdutil.Fatalf("--sort: %v", err)
		}
	} else if s != "" {
		for _, f := range splitList(s) {
			dir := int32(1)
			if name, ok := strings.CutPrefix(f, "-"); ok {
				f, dir = name, -1
			} else if name, ok := strings.CutPrefix(f, "+"); ok {
				f = name
			}
			q.SortFields = append(q.SortFields, store.SortField{Name: f, Dir: dir})
		}
	}
	q.Fields = splitList(c.String("fields"))
	switch {
	case c.Bool("id") && c.Bool("no-id"):
		return cmdutil.Fatalf("--id and --no-id exclude each other")
	case c.Bool("id"):
		q.ID = store.IDAlways
	case c.Bool("no-id"):
		q.ID = store.IDNever
	}

	cl, err := connect(c)
	if err != nil {
		return err
	}
	defer closeClient(cl)
	w := bufio.NewWriterSize(c.App.Writer, 64<<10)
	_, err = cl.Find(c.Context, q, func(line []byte) error {
		_, err := w.Write(append(line, '\n'))
		return err
	})
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		if cmdutil.IsBrokenPipe(err) {
			return err
		}
		return cmdutil.Fatalf("%v", err)
	}
	return nil
}
