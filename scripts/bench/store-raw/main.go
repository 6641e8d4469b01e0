// Command store-raw is the peer hms-store's insert is measured against
// (scripts/bench-store.sh): the plain Go driver doing unordered InsertMany
// of the same documents in batches of the same size. It decodes every line
// (driver's Extended JSON) before the clock starts, so the rate it prints
// is the driver's and the server's alone. With -content-ids it sends the
// very documents hms-store insert sends by default (its BSON, its _id).
//
//	store-raw -uri mongodb://127.0.0.1:27017/ -db bench -c docs -batch 1000 [-id-field n] < docs.jsonl
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/hms-toolkit/hms/pkg/jsonbson"
	"github.com/hms-toolkit/hms/pkg/store"
)

func main() {
	uri := flag.String("uri", "mongodb://127.0.0.1:27017/", "MongoDB URI")
	db := flag.String("db", "bench", "database")
	coll := flag.String("c", "docs", "collection")
	batch := flag.Int("batch", 1000, "documents per InsertMany")
	idField := flag.String("id-field", "", "use this field's value as _id (as hms-store insert --id-field)")
	contentIDs := flag.Bool("content-ids", false, "give each document the _id hms-store insert computes from its content")
	flag.Parse()

	var docs []any
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		if *contentIDs {
			// The very documents hms-store sends: its BSON, with its _id.
			doc, err := jsonbson.ParseJSON(nil, sc.Bytes(), jsonbson.Strict)
			if err != nil {
				fail(err)
			}
			withID := binary.LittleEndian.AppendUint32(nil, 0)
			withID = append(withID, 0x07, '_', 'i', 'd', 0)
			withID = append(withID, store.ContentID(doc)...)
			withID = append(withID, doc[4:]...)
			binary.LittleEndian.PutUint32(withID, uint32(len(withID)))
			docs = append(docs, bson.Raw(withID))
			continue
		}
		var d bson.D
		if err := bson.UnmarshalExtJSON(sc.Bytes(), false, &d); err != nil {
			fail(err)
		}
		if *idField != "" {
			for _, e := range d {
				if e.Key == *idField {
					d = append(bson.D{{Key: "_id", Value: e.Value}}, d...)
					break
				}
			}
		}
		docs = append(docs, d)
	}
	if err := sc.Err(); err != nil {
		fail(err)
	}
	ctx := context.Background()
	c, err := mongo.Connect(options.Client().ApplyURI(*uri))
	if err != nil {
		fail(err)
	}
	defer c.Disconnect(ctx)
	if err := c.Ping(ctx, nil); err != nil {
		fail(err)
	}
	col := c.Database(*db).Collection(*coll)

	start := time.Now()
	for i := 0; i < len(docs); i += *batch {
		j := min(i+*batch, len(docs))
		if _, err := col.InsertMany(ctx, docs[i:j], options.InsertMany().SetOrdered(false)); err != nil {
			fail(err)
		}
	}
	d := time.Since(start)
	fmt.Printf("%d docs in %.3fs: %.0f docs/s\n", len(docs), d.Seconds(), float64(len(docs))/d.Seconds())
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "store-raw:", err)
	os.Exit(1)
}
