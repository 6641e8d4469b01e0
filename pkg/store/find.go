package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/hms-toolkit/hms/pkg/jsonbson"
)

// Query is what Find looks for.
type Query struct {
	Collection string
	// Filter is a BSON query document (jsonbson.ParseJSON in Operators
	// mode); nil matches everything.
	Filter []byte
	// Sort is a BSON sort document; SortFields is the same as a list and
	// is used when Sort is nil.
	Sort       []byte
	SortFields []SortField
	// Limit is the most documents returned (0: no limit).
	Limit int64
	// Fields, if not empty, are the only fields returned (paths allowed);
	// _id is returned only when listed.
	Fields []string
	// ID says whether the top-level _id is printed (see
	// jsonbson.OutputOptions).
	ID jsonbson.IDMode
	// OnInvalidUTF8, if not nil, is told of each document with text that is
	// not valid UTF-8 (which comes out with U+FFFD in its place): its _id as
	// JSON and the paths of the keys and strings concerned.
	OnInvalidUTF8 func(id string, paths []string)
}

// SortField is one key of a sort: Dir is 1 (ascending) or -1.
type SortField struct {
	Name string
	Dir  int32
}

// Find runs q and calls emit with the JSON of each document (see
// jsonbson.AppendJSON), without a newline; emit must not keep the slice. It
// returns the number of documents emitted. Opening the query is retried
// like a write; an error after the first document is returned as it is,
// since starting again would print documents twice. A server that stops
// answering ends it (ErrNotAnswering) rather than hanging it.
func (c *Client) Find(ctx context.Context, q Query, emit func([]byte) error) (int64, error) {
	opts, out := findOptions(q)
	var filter any = bson.D{}
	if q.Filter != nil {
		filter = bson.Raw(q.Filter)
	}
	coll := c.Collection(q.Collection)
	var cur *mongo.Cursor
	err := c.Retry(ctx, func(ctx context.Context) error {
		var err error
		cur, err = coll.Find(ctx, filter, opts)
		return err
	}, nil)
	if err != nil {
		return 0, fmt.Errorf("find in %s: %w", q.Collection, shortErr(err))
	}
	defer func() {
		// Bounded: a server that stopped answering would hold the end up.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 500*time.Millisecond)
		defer cancel()
		cur.Close(cctx)
	}()
	var n int64
	err = c.Guard(ctx, func(ctx context.Context) error {
		var paths []string
		if q.OnInvalidUTF8 != nil {
			out.OnInvalidUTF8 = func(p string) { paths = append(paths, p) }
		}
		var buf []byte
		for cur.Next(ctx) {
			var err error
			paths = paths[:0]
			if buf, err = jsonbson.AppendJSON(buf[:0], cur.Current, out); err != nil {
				return fmt.Errorf("document %d: %w", n+1, err)
			}
			if len(paths) > 0 {
				q.OnInvalidUTF8(documentID(cur.Current), paths)
			}
			if err := emit(buf); err != nil {
				return err
			}
			n++
		}
		if err := cur.Err(); err != nil {
			return fmt.Errorf("find in %s, after %d documents: %w", q.Collection, n, err)
		}
		return nil
	})
	return n, err
}

func findOptions(q Query) (*options.FindOptionsBuilder, jsonbson.OutputOptions) {
	opts := options.Find()
	if q.Sort != nil {
		opts.SetSort(bson.Raw(q.Sort))
	} else if len(q.SortFields) > 0 {
		d := bson.D{}
		for _, f := range q.SortFields {
			d = append(d, bson.E{Key: f.Name, Value: f.Dir})
		}
		opts.SetSort(d)
	}
	if q.Limit > 0 {
		opts.SetLimit(q.Limit)
	}
	out := jsonbson.OutputOptions{ID: q.ID}
	if len(q.Fields) > 0 {
		p := bson.D{}
		hasID := false
		for _, f := range q.Fields {
			p = append(p, bson.E{Key: f, Value: 1})
			hasID = hasID || f == "_id"
		}
		// The _id comes anyway (for messages), shown only when listed.
		if !hasID {
			out.ID = jsonbson.IDNever
		} else if q.ID == jsonbson.IDAuto {
			out.ID = jsonbson.IDAlways
		}
		opts.SetProjection(p)
	}
	return opts, out
}

// documentID is the _id of doc as JSON, for messages ("(no _id)" if none).
func documentID(doc []byte) string {
	if el, ok := jsonbson.Lookup(doc, "_id"); ok {
		return describeID(el)
	}
	return "(no _id)"
}
