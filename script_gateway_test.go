package hms_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/rogpeppe/go-internal/testscript"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/hms-toolkit/hms/pkg/devdb/devdbtest"
)

// Script commands for the gateway scripts (testdata/script/gateway_*.txtar):
//
//	gw-env                  a database and a queue of the script's own:
//	                        sets MONGODB_URI, HMS_DB and Q, and removes
//	                        both when the script ends
//	gw-doc COLL ID          print the stored document as one JSON line
//	                        (sorted keys); fails when there is none
//	gw-count COLL N [FILTER] the collection holds N documents (matching
//	                        the JSON FILTER)
//	gw-wait COLL N [FILTER] wait (polling, 60s deadline) until it does
func init() {
	scriptCmds["gw-env"] = gwEnv
	scriptCmds["gw-doc"] = gwDoc
	scriptCmds["gw-count"] = gwCount
	scriptCmds["gw-wait"] = gwWait
}

func gwAMQPURL() string {
	if u := os.Getenv("AMQP_URL"); u != "" {
		return u
	}
	return "amqp://guest:guest@127.0.0.1:5672/"
}

func gwEnv(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: gw-env")
	}
	uri, err := devdbtest.SharedURI()
	ts.Check(err)
	var rnd [6]byte
	rand.Read(rnd[:])
	db := devdbtest.Name("gw")
	q := "hms.test.gateway." + hex.EncodeToString(rnd[:])
	ts.Setenv("MONGODB_URI", uri)
	ts.Setenv("HMS_DB", db)
	ts.Setenv("Q", q)
	ts.Defer(func() {
		devdbtest.Drop(uri, db)
		// The queues hms-send and hms-recv declared: Q and its dead letters.
		if conn, err := amqp.Dial(gwAMQPURL()); err == nil {
			if ch, err := conn.Channel(); err == nil {
				ch.QueueDelete(q, false, false, false)
				ch.QueueDelete(q+".dead", false, false, false)
			}
			conn.Close()
		}
	})
}

func gwDB(ts *testscript.TestScript) (*mongo.Database, func()) {
	mc, err := mongo.Connect(options.Client().ApplyURI(ts.Getenv("MONGODB_URI")))
	ts.Check(err)
	return mc.Database(ts.Getenv("HMS_DB")), func() { mc.Disconnect(context.Background()) }
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
	deadline := time.Now().Add(patience)
	n, err := db.Collection(args[0]).CountDocuments(ctx, filter)
	for err == nil && n != want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // a poll interval, not a wait for the effect
		n, err = db.Collection(args[0]).CountDocuments(ctx, filter)
	}
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
