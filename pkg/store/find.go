package store

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Query is what Find looks for.
type Query struct {
	Collection string
	// Filter is a BSON query document (ParseJSON in Query mode); nil
	// matches everything.
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
	// ID says whether the top-level _id is printed (see OutputOptions).
	ID IDMode
}

// SortField is one key of a sort: Dir is 1 (ascending) or -1.
type SortField struct {
	Name string
	Dir  int32
}

// Find runs q and calls emit with the JSON of each document (see
// AppendJSON), without a newline; emit must not keep the slice. It returns
// the number of documents emitted. Opening the query is retried like a
// write; an error after the first document is returned as it is, since
// starting again would print documents twice.
func (c *Client) Find(ctx context.Context, q Query, emit func([]byte) error) (int64, error) {
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
	out := OutputOptions{ID: q.ID}
	if len(q.Fields) > 0 {
		p := bson.D{}
		hasID := false
		for _, f := range q.Fields {
			p = append(p, bson.E{Key: f, Value: 1})
			hasID = hasID || f == "_id"
		}
		if !hasID {
			p = append(p, bson.E{Key: "_id", Value: 0})
		} else if q.ID == IDAuto {
			out.ID = IDAlways
		}
		opts.SetProjection(p)
	}
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
	defer cur.Close(context.WithoutCancel(ctx))
	var n int64
	var buf []byte
	for cur.Next(ctx) {
		buf, err = AppendJSON(buf[:0], cur.Current, out)
		if err != nil {
			return n, fmt.Errorf("document %d: %w", n+1, err)
		}
		if err := emit(buf); err != nil {
			return n, err
		}
		n++
	}
	if err := cur.Err(); err != nil {
		return n, fmt.Errorf("find in %s, after %d documents: %w", q.Collection, n, err)
	}
	return n, nil
}
