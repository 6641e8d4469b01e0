package storecmd

import (
	"bufio"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/hms-toolkit/hms/pkg/cmdutil"
	"github.com/hms-toolkit/hms/pkg/jsonbson"
	"github.com/hms-toolkit/hms/pkg/store"
)

func findCommand() *cli.Command {
	return &cli.Command{
		Name:      "find",
		Usage:     "print documents as JSON lines",
		UsageText: "hms-store find --collection NAME [--filter JSON] [--sort FIELDS] [--limit N] [--fields FIELDS] > records.jsonl",
		Description: `Prints the documents of a collection that match --filter, one JSON object
per line, so that what insert stored comes back as the same JSON values.
The _id is printed unless it is an ObjectId (ids hms-store computed or a
server generated, which are not part of the record): --id prints it always,
--no-id never; with --fields, _id is printed only when listed.

  hms-store find -c results --filter '{"n": {"$gte": 100}}' --sort -n --limit 10

Operators that run code on the server ($where, $function, $accumulator)
are refused, at any depth of --filter. Text that is not valid UTF-8 (which
other programs may have stored) is printed with U+FFFD in place of each bad
byte, named on stderr with the document's _id, and the exit status is 1.
SIGINT/SIGTERM stop the output at once, after a whole line.`,
		Flags: append(connFlags(), collectionFlag(),
			&cli.StringFlag{Name: "filter", Usage: "query as `JSON`, operators allowed, e.g. '{\"n\": {\"$gt\": 5}}'"},
			&cli.StringFlag{Name: "sort", Usage: "sort by `FIELDS` F[,-G...] (- for descending), or a JSON sort document"},
			&cli.Int64Flag{Name: "limit", Usage: "print at most `N` documents (0: all)"},
			&cli.StringFlag{Name: "fields", Usage: "print only these top-level or dotted `FIELDS` F[,G...]"},
			&cli.BoolFlag{Name: "id", Usage: "always print _id"},
			&cli.BoolFlag{Name: "no-id", Usage: "never print _id"},
			cmdutil.VerboseFlag("say how many documents were printed"),
		),
		Action: find,
	}
}

func find(c *cli.Context) error {
	if c.NArg() > 0 {
		return cmdutil.Fatalf("unexpected argument %q", c.Args().First()).
			WithHint("the query goes in --filter")
	}
	q, err := findQuery(c)
	if err != nil {
		return err
	}
	out := newConsole(c)
	bad := 0
	q.OnInvalidUTF8 = func(id string, paths []string) {
		bad++
		for i, p := range paths {
			paths[i] = strings.ToValidUTF8(p, "\uFFFD")
		}
		out.printf("document _id %s: text that is not valid UTF-8, printed with U+FFFD in its place, in %s", id, strings.Join(paths, ", "))
	}
	cl, err := connect(c)
	if err != nil {
		return err
	}
	defer closeClient(cl)
	w := bufio.NewWriterSize(c.App.Writer, 64<<10)
	n, err := cl.Find(c.Context, q, func(line []byte) error {
		_, err := w.Write(append(line, '\n'))
		return err
	})
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	switch {
	case err != nil && cmdutil.IsBrokenPipe(err):
		return err
	case err != nil && cmdutil.StopSignal(c.Context) != nil:
		return cmdutil.Stopped(c.Context, "after %d %s: the output is incomplete", n, cmdutil.Plural(n, "document"))
	case err != nil:
		return cmdutil.Fatalf("%v", err)
	}
	if c.Bool("verbose") {
		out.printf("printed %d %s", n, cmdutil.Plural(n, "document"))
	}
	if bad > 0 {
		out.printf("%d %s had text that is not valid UTF-8 (see above): the output is not exactly what is stored", bad, cmdutil.Plural(bad, "document"))
		return cmdutil.Partial
	}
	return nil
}

// findQuery reads find's flags.
func findQuery(c *cli.Context) (store.Query, error) {
	coll, err := checkCollection(c)
	if err != nil {
		return store.Query{}, err
	}
	q := store.Query{Collection: coll, Limit: c.Int64("limit")}
	if q.Limit < 0 {
		return q, cmdutil.UsageErrorf(c, "--limit must not be negative")
	}
	if f := c.String("filter"); f != "" {
		if q.Filter, err = jsonbson.ParseJSON(nil, []byte(f), jsonbson.Operators); err != nil {
			return q, cmdutil.Fatalf("--filter: %v", err)
		}
	}
	if s := strings.TrimSpace(c.String("sort")); strings.HasPrefix(s, "{") {
		if q.Sort, err = jsonbson.ParseJSON(nil, []byte(s), jsonbson.Operators); err != nil {
			return q, cmdutil.Fatalf("--sort: %v", err)
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
		return q, cmdutil.UsageErrorf(c, "--id and --no-id exclude each other")
	case c.Bool("id"):
		q.ID = jsonbson.IDAlways
	case c.Bool("no-id"):
		q.ID = jsonbson.IDNever
	}
	return q, nil
}
