package testenv

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/hms-toolkit/hms/pkg/message"
)

// Commands that look into the script's database (MONGODB_URI,
// MONGODB_DB: see 'mongodb'), for the gateway scripts:
//
//	gw-doc COLL ID          print the stored document as one JSON line
//	                        (sorted keys); fails when there is none
//	gw-count COLL N [FILTER] the collection holds N documents (matching
//	                        the JSON FILTER)
//	gw-wait COLL N [FILTER] wait (polling, 60s deadline) until it does
//	gw-sign KEYFILE OPERATION ID DATAFILE
//	                        print an envelope of the data in DATAFILE
//	                        signed with KEYFILE under the envelope id ID
//	                        (hms-sign picks fresh ids: this reuses one, as
//	                        a forger or a careless sender would)

func gwDB(ts *testscript.TestScript) (*mongo.Database, func()) {
	mc, err := mongo.Connect(options.Client().ApplyURI(ts.Getenv("MONGODB_URI")))
	ts.Check(err)
	return mc.Database(ts.Getenv("MONGODB_DB")), func() { mc.Disconnect(context.Background()) }
}

func gwDoc(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: gw-doc COLL ID")
	}
	db, done := gwDB(ts)
	defer done()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var doc bson.M
	err := db.Collection(args[0]).FindOne(ctx, bson.D{{Key: "_id", Value: args[1]}}).Decode(&doc)
	if err == mongo.ErrNoDocuments {
		if !neg {
			ts.Fatalf("no document %s in %s", args[1], args[0])
		}
		return
	}
	ts.Check(err)
	if neg {
		ts.Fatalf("document %s is in %s", args[1], args[0])
	}
	enc := json.NewEncoder(ts.Stdout())
	enc.SetEscapeHTML(false)
	ts.Check(enc.Encode(gwPlain(doc)))
}

// gwPlain turns BSON values into what encoding/json prints plainly.
func gwPlain(v any) any {
	switch x := v.(type) {
	case bson.M:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = gwPlain(e)
		}
		return m
	case bson.D:
		m := make(map[string]any, len(x))
		for _, e := range x {
			m[e.Key] = gwPlain(e.Value)
		}
		return m
	case bson.A:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = gwPlain(e)
		}
		return out
	case bson.DateTime:
		return x.Time().UTC().Format(time.RFC3339Nano)
	}
	return v
}

func gwCount(ts *testscript.TestScript, neg bool, args []string) {
	gwCountWithin(ts, neg, args, 0)
}

// gwWait waits for an effect of a running gateway: it polls the count with
// a deadline instead of sleeping a fixed time as the book does.
func gwWait(ts *testscript.TestScript, neg bool, args []string) {
	gwCountWithin(ts, neg, args, 60*time.Second)
}

func gwCountWithin(ts *testscript.TestScript, neg bool, args []string, patience time.Duration) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: gw-count|gw-wait COLL N [FILTER]")
	}
	want, err := strconv.ParseInt(args[1], 10, 64)
	ts.Check(err)
	filter := bson.D{}
	if len(args) == 3 {
		ts.Check(bson.UnmarshalExtJSON([]byte(args[2]), false, &filter))
	}
	db, done := gwDB(ts)
	defer done()
	ctx, cancel := context.WithTimeout(context.Background(), patience+30*time.Second)
	defer cancel()
	var n int64
	WaitFor(patience, func() bool {
		n, err = db.Collection(args[0]).CountDocuments(ctx, filter)
		return err != nil || n == want
	})
	ts.Check(err)
	if n != want {
		var names []string
		cur, err := db.Collection(args[0]).Find(ctx, filter)
		if err == nil {
			var docs []bson.M
			cur.All(ctx, &docs)
			for _, d := range docs {
				b, _ := json.Marshal(gwPlain(d))
				names = append(names, string(b))
			}
		}
		ts.Fatalf("%s holds %d documents, want %d:\n%s", args[0], n, want, strings.Join(names, "\n"))
	}
}

func gwSign(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 4 {
		ts.Fatalf("usage: gw-sign KEYFILE OPERATION ID DATAFILE")
	}
	key, err := message.LoadKey(ts.MkAbs(args[0]))
	ts.Check(err)
	s, err := message.NewSigner(key)
	ts.Check(err)
	line, err := s.AppendSignID(nil, args[2], args[1], []byte(ts.ReadFile(args[3])), time.Now())
	ts.Check(err)
	_, err = ts.Stdout().Write(append(line, '\n'))
	ts.Check(err)
}
