package gatewaystore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/hms-toolkit/hms/pkg/devdb/devdbtest"
	"github.com/hms-toolkit/hms/pkg/gateway"
)

const (
	artisanA = "a0000000-0000-4000-8000-00000000000a"
	productA = "c0000000-0000-4000-8000-00000000000a"
	order1   = "d0000000-0000-4000-8000-000000000001"
)

var (
	office = gateway.Identity{Origin: gateway.OriginCentralOffice}
	byA    = gateway.Identity{Origin: gateway.OriginArtisan, Subject: artisanA}
)

func newStore(t *testing.T) (*Store, *mongo.Database) {
	t.Helper()
	mc, err := mongo.Connect(options.Client().ApplyURI(devdbtest.URI(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mc.Disconnect(context.Background()) })
	db := mc.Database(devdbtest.DB(t))
	s := New(db)
	if err := s.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, db
}

func req(t *testing.T, op gateway.Operation, target gateway.Target, props string) *gateway.Request {
	t.Helper()
	r, err := gateway.ParseRequest(string(op), []byte(`{"target":"`+string(target)+`","properties":`+props+`}`))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

const artisanProps = `{"oid":"` + artisanA + `","contact_name":"Ann","contact_email":"ann@me.co",
	"address":{"street_address":"1 Main St","city":"Springfield"}}`

// msg is a message of key kid with id; its signature stands for its
// content, so the same (kid, id, content) is a redelivery.
func msg(kid, id string, content ...string) gateway.MessageID {
	return gateway.MessageID{KID: kid, ID: id, Signature: "sig:" + kid + "/" + id + strings.Join(content, ","), TS: time.Now()}
}

func co(id string) gateway.MessageID { return msg("co", id) }
func ka(id string) gateway.MessageID { return msg("ka", id) }

func apply(t *testing.T, s *Store, m gateway.MessageID, who gateway.Identity, r *gateway.Request, want Result) Outcome {
	t.Helper()
	o, err := s.Apply(context.Background(), m, who, r)
	if err != nil {
		t.Fatalf("%s: %v", m.Key(), err)
	}
	if o.Result != want {
		t.Fatalf("%s: got %v (%s), want %v", m.Key(), o.Result, o.Reason, want)
	}
	return o
}

func get(t *testing.T, s *Store, coll, id string) map[string]any {
	t.Helper()
	doc, err := s.get(context.Background(), coll, id)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// wantCount fails t unless coll holds want documents matching filter (all
// when nil).
func wantCount(t *testing.T, db *mongo.Database, coll string, filter bson.D, want int64) {
	t.Helper()
	if filter == nil {
		filter = bson.D{}
	}
	n, err := db.Collection(coll).CountDocuments(context.Background(), filter)
	if err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Fatalf("%s holds %d documents matching %v, want %d", coll, n, filter, want)
	}
}

func rename(t *testing.T, name string) *gateway.Request {
	return req(t, gateway.Update, gateway.Artisan, `{"oid":"`+artisanA+`","contact_name":"`+name+`"}`)
}

// Every message takes effect at most once, whatever is redelivered when,
// and whatever became of its object: deleted, created again, deleted again.
func TestApplyAtMostOnce(t *testing.T) {
	s, db := newStore(t)
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { clock = clock.Add(time.Second); return clock }
	create := req(t, gateway.Create, gateway.Artisan, artisanProps)
	del := req(t, gateway.Delete, gateway.Artisan, `{"oid":"`+artisanA+`"}`)

	apply(t, s, co("e1"), office, create, Applied)
	apply(t, s, co("e1"), office, create, AlreadyApplied) // not "already exists"
	doc := get(t, s, "artisans", artisanA)
	if doc["contact_name"] != "Ann" || doc["_rev"] != "co/e1" || doc["oid"] != artisanA {
		t.Fatalf("after create: %v", doc)
	}
	created := doc["created"]
	apply(t, s, ka("e2"), byA, rename(t, "Bob"), Applied)
	apply(t, s, ka("e3"), byA, rename(t, "Cy"), Applied)
	apply(t, s, ka("e2"), byA, rename(t, "Bob"), AlreadyApplied) // after e3: must not bring "Bob" back
	doc = get(t, s, "artisans", artisanA)
	if doc["contact_name"] != "Cy" || doc["created"] != created || doc["modified"] == created {
		t.Fatalf("after updates: %v", doc)
	}

	apply(t, s, co("e4"), office, del, Applied)
	apply(t, s, co("e4"), office, del, AlreadyApplied)
	apply(t, s, co("e1"), office, create, AlreadyApplied) // no resurrection
	apply(t, s, ka("e3"), byA, rename(t, "Cy"), AlreadyApplied)
	if doc := get(t, s, "artisans", artisanA); doc != nil {
		t.Fatalf("deleted artisan came back: %v", doc)
	}
	arch := get(t, s, Deleted, "co/e4")
	if arch == nil || arch["oid"] != artisanA || arch["object"].(map[string]any)["contact_name"] != "Cy" {
		t.Fatalf("deletion record: %v", arch)
	}

	// A new life of the same oid: every message of the old one, redelivered
	// in any order, is already applied and changes nothing.
	apply(t, s, co("e5"), office, create, Applied)
	apply(t, s, ka("e6"), byA, rename(t, "Dee"), Applied)
	for _, m := range []struct {
		id  gateway.MessageID
		who gateway.Identity
		r   *gateway.Request
	}{{co("e4"), office, del}, {ka("e2"), byA, rename(t, "Bob")}, {co("e1"), office, create}, {ka("e3"), byA, rename(t, "Cy")}, {co("e5"), office, create}} {
		apply(t, s, m.id, m.who, m.r, AlreadyApplied)
	}
	if doc := get(t, s, "artisans", artisanA); doc == nil || doc["_rev"] != "ka/e6" || doc["contact_name"] != "Dee" {
		t.Fatalf("re-created artisan: %v", doc)
	}
	// Deleted again, and everything once more.
	apply(t, s, co("e7"), office, del, Applied)
	for _, id := range []string{"e1", "e4", "e5", "e7"} {
		r := create
		if id == "e4" || id == "e7" {
			r = del
		}
		apply(t, s, co(id), office, r, AlreadyApplied)
	}
	if doc := get(t, s, "artisans", artisanA); doc != nil {
		t.Fatalf("deleted artisan came back: %v", doc)
	}
	wantCount(t, db, AppliedIDs, nil, 7)
	wantCount(t, db, Locks, nil, 0)
}

// The identity of a message is (kid, id): equal ids of two keys never
// meet, and an id its key used for another message is refused.
func TestApplyIdentity(t *testing.T) {
	s, _ := newStore(t)
	apply(t, s, co("x1"), office, req(t, gateway.Create, gateway.Artisan, artisanProps), Applied)
	// The artisan signs an update with the office's id: its own message.
	apply(t, s, ka("x1"), byA, rename(t, "Bob"), Applied)
	apply(t, s, co("x2"), office, rename(t, "Cy"), Applied)
	// The office's x2 signed again with other content (another signature),
	// on this object and on another: refused, nothing changes.
	o := apply(t, s, msg("co", "x2", "other"), office, rename(t, "Eve"), Refused)
	if !strings.Contains(o.Reason, "id reused: key co already signed another message with id x2 (update artisans "+artisanA+")") {
		t.Fatalf("reason %q", o.Reason)
	}
	apply(t, s, msg("co", "x2", "other"), office, req(t, gateway.Update, gateway.Order, `{"oid":"`+order1+`","name":"x"}`), Refused)
	if doc := get(t, s, "artisans", artisanA); doc["contact_name"] != "Cy" {
		t.Fatalf("got %v", doc)
	}
	// A refused message leaves no memory: its id is free for the message
	// that will take effect.
	apply(t, s, co("x3"), office, req(t, gateway.Update, gateway.Order, `{"oid":"`+order1+`","name":"x"}`), Refused)
	apply(t, s, msg("co", "x3", "retry"), office, rename(t, "Flo"), Applied)
	// The legacy scheme's line hashes are a namespace of their own.
	legacy := gateway.MessageID{ID: "legacy-0123", Signature: "h"}
	apply(t, s, legacy, office, rename(t, "Gil"), Applied)
	apply(t, s, legacy, office, rename(t, "Gil"), AlreadyApplied)
	apply(t, s, msg("legacy-0123", "x", ""), office, rename(t, "Hal"), Applied)
}

// A crash (here: an error) at any step leaves a lease behind; whoever takes
// the object next resolves it, so the message is applied exactly once when
// it comes back: never lost, never doubled.
func TestApplyCrashSafety(t *testing.T) {
	create := func(t *testing.T) *gateway.Request { return req(t, gateway.Create, gateway.Artisan, artisanProps) }
	del := func(t *testing.T) *gateway.Request {
		return req(t, gateway.Delete, gateway.Artisan, `{"oid":"`+artisanA+`"}`)
	}
	tests := []struct {
		name    string
		step    string // where the first attempt fails
		r       func(t *testing.T) *gateway.Request
		created bool // the object exists before
		effect  bool // the failed attempt made its effect
		exists  bool // the object exists after
	}{
		{"create, after the claim", "claim", create, false, false, true},
		{"create, after the write", "write", create, false, true, true},
		{"update, after the claim", "claim", func(t *testing.T) *gateway.Request { return rename(t, "Bob") }, true, false, true},
		{"update, after the write", "write", func(t *testing.T) *gateway.Request { return rename(t, "Bob") }, true, true, true},
		{"delete, after the claim", "claim", del, true, false, false},
		{"delete, after the archive", "archive", del, true, false, false},
		{"delete, after the write", "write", del, true, true, false},
	}
	for _, tt := range tests {
		for _, who := range []string{"the same gateway", "another gateway"} {
			t.Run(tt.name+", "+who, func(t *testing.T) {
				s, db := newStore(t)
				if tt.created {
					apply(t, s, co("c0"), office, create(t), Applied)
				}
				crash := errors.New("crash")
				s.fault = func(step string) error {
					if step == tt.step {
						return crash
					}
					return nil
				}
				m := co("m1")
				if _, err := s.Apply(context.Background(), m, office, tt.r(t)); err != crash {
					t.Fatalf("got %v, want the crash", err)
				}
				s.fault = nil
				wantCount(t, db, Locks, nil, 1)
				next := s
				if who == "another gateway" {
					next = New(db)
					// The crashed gateway's lease has expired.
					if _, err := db.Collection(Locks).UpdateOne(context.Background(), bson.D{},
						bson.D{{Key: "$set", Value: bson.D{{Key: "until", Value: time.Now().Add(-time.Second)}}}}); err != nil {
						t.Fatal(err)
					}
					// Another message on the object resolves the lease first.
					apply(t, next, co("other"), office, req(t, gateway.Update, gateway.Artisan, `{"oid":"`+artisanA+`","website":1}`), Refused)
				}
				want := Applied
				if tt.effect {
					want = AlreadyApplied
				}
				start := time.Now()
				apply(t, next, m, office, tt.r(t), want)
				apply(t, next, m, office, tt.r(t), AlreadyApplied)
				if d := time.Since(start); d > LeaseTTL/2 {
					t.Errorf("took %v: waited for the lease", d)
				}
				doc := get(t, s, "artisans", artisanA)
				if (doc != nil) != tt.exists || doc != nil && doc["_rev"] != "co/m1" {
					t.Fatalf("object after: %v, want it to exist: %v, written by m1", doc, tt.exists)
				}
				wantCount(t, db, AppliedIDs, bson.D{{Key: "_id", Value: "co/m1"}}, 1)
				if tt.r(t).Operation == gateway.Delete {
					wantCount(t, db, Deleted, nil, 1)
				}
				wantCount(t, db, Locks, nil, 0)
			})
		}
	}
}

// Resolving a lease deletes only what was written under that very lease,
// never a later attempt of the same message.
func TestResolveOwnTokenOnly(t *testing.T) {
	s, db := newStore(t)
	ctx := context.Background()
	apply(t, s, co("m1"), office, req(t, gateway.Create, gateway.Artisan, artisanProps), Applied)
	// A stale lease of an earlier attempt of m1 (before the one applied).
	if err := s.resolve(ctx, lease{id: "artisans/" + artisanA, msg: "co/m1", token: "old"}); err != nil {
		t.Fatal(err)
	}
	wantCount(t, db, AppliedIDs, nil, 1)
}

// Objects stored by other means (hms-store insert, no _rev) can be updated,
// and rejections are outcomes, not errors.
func TestApplyForeignObjectAndRejections(t *testing.T) {
	s, db := newStore(t)
	ctx := context.Background()
	var props map[string]any
	if err := json.Unmarshal([]byte(artisanProps), &props); err != nil {
		t.Fatal(err)
	}
	props["_id"] = artisanA
	props["_applied"] = []string{"an id of the old scheme"}
	if _, err := db.Collection("artisans").InsertOne(ctx, props); err != nil {
		t.Fatal(err)
	}
	apply(t, s, ka("e1"), byA, req(t, gateway.Update, gateway.Artisan, `{"oid":"`+artisanA+`","company_name":"Ann & Co"}`), Applied)
	if doc := get(t, s, "artisans", artisanA); doc["company_name"] != "Ann & Co" || doc["_rev"] != "ka/e1" || doc["_applied"] != nil {
		t.Fatalf("got %v", doc)
	}
	apply(t, s, ka("e1b"), byA, req(t, gateway.Update, gateway.Artisan, `{"oid":"`+artisanA+`","company_name":null}`), Applied)
	if doc := get(t, s, "artisans", artisanA); doc["company_name"] != nil || doc["contact_name"] != "Ann" {
		t.Fatalf("after removing company_name: %v", doc)
	}
	o := apply(t, s, ka("e2"), byA, req(t, gateway.Update, gateway.Artisan, `{"oid":"`+artisanA+`","website":12.345}`), Refused)
	if o.Reason == "" {
		t.Fatal("no reason")
	}
	apply(t, s, co("e3"), office, req(t, gateway.Update, gateway.Order, `{"oid":"`+order1+`","name":"x"}`), Refused)
	wantCount(t, db, AppliedIDs, nil, 2)

	r := Rejection{Line: []byte(`{"bad":1}`), Reason: "malformed", ID: "e9"}
	for range 2 {
		if err := s.Reject(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	wantCount(t, db, Rejected, nil, 1)
}

// An artisan's fulfilment looks up product owners in the products collection.
func TestApplyFulfilment(t *testing.T) {
	s, _ := newStore(t)
	apply(t, s, ka("p1"), byA, req(t, gateway.Create, gateway.Product,
		`{"oid":"`+productA+`","name":"Box","summary":"A box","artisan_id":"`+artisanA+`"}`), Applied)
	apply(t, s, co("o1"), office, req(t, gateway.Create, gateway.Order,
		`{"oid":"`+order1+`","name":"Cust","street_address":"s","city":"c","items":{"`+productA+`":3}}`), Applied)
	apply(t, s, ka("o2"), byA, req(t, gateway.Update, gateway.Order,
		`{"oid":"`+order1+`","fulfilled_items":{"`+productA+`":2}}`), Applied)
	apply(t, s, ka("o3"), byA, req(t, gateway.Update, gateway.Order,
		`{"oid":"`+order1+`","fulfilled_items":{"`+productA+`":4}}`), Refused)
	doc := get(t, s, "orders", order1)
	if f := doc["fulfilled_items"].(map[string]any); f[productA] != int64(2) {
		t.Fatalf("fulfilled_items = %v", f)
	}
}

// Gateway instances racing on one object: every update is applied exactly
// once and none is lost (each conditional write builds on the one before).
func TestApplyConcurrent(t *testing.T) {
	s, db := newStore(t)
	apply(t, s, co("c0"), office, req(t, gateway.Create, gateway.Artisan, artisanProps), Applied)
	const n = 8
	errs := make(chan error, n)
	for i := range n {
		go func() {
			other := New(db) // another gateway instance
			id := "u" + strconv.Itoa(i)
			r, err := gateway.ParseRequest("update", []byte(`{"target":"artisan","properties":{"oid":"`+artisanA+`","contact_name":"`+id+`"}}`))
			if err != nil {
				errs <- err
				return
			}
			o, err := other.Apply(context.Background(), ka(id), byA, r)
			if err == nil && o.Result != Applied {
				err = fmt.Errorf("%s: %v %s", id, o.Result, o.Reason)
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	wantCount(t, db, AppliedIDs, nil, n+1)
	doc := get(t, s, "artisans", artisanA)
	if doc["_rev"] != "ka/"+doc["contact_name"].(string) {
		t.Fatalf("_rev %v, contact_name %v", doc["_rev"], doc["contact_name"])
	}
}

// The same messages redelivered to several gateways at once, each in its
// own order: each message takes effect exactly once in all.
func TestApplyConcurrentRedelivery(t *testing.T) {
	s, db := newStore(t)
	apply(t, s, co("c0"), office, req(t, gateway.Create, gateway.Artisan, artisanProps), Applied)
	const gateways, messages = 3, 6
	var mu sync.Mutex
	applied := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, gateways)
	for g := range gateways {
		wg.Add(1)
		go func() {
			defer wg.Done()
			other := New(db)
			for _, i := range rand.New(rand.NewPCG(uint64(g), 1)).Perm(messages) {
				id := "u" + strconv.Itoa(i)
				o, err := other.Apply(context.Background(), ka(id), byA, rename(t, id))
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				if o.Result == Applied {
					applied[id]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range messages {
		if id := "u" + strconv.Itoa(i); applied[id] != 1 {
			t.Errorf("%s applied %d times", id, applied[id])
		}
	}
	wantCount(t, db, Locks, nil, 0)
}

// A lease left by a writer that died is resolved and broken once expired; a
// live one is waited for.
func TestApplyStaleLease(t *testing.T) {
	s, db := newStore(t)
	ctx := context.Background()
	key := "artisans/" + artisanA
	if _, err := db.Collection(Locks).InsertOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "msg", Value: "co/dead"},
		{Key: "token", Value: "t0"}, {Key: "until", Value: time.Now().Add(-time.Second)}}); err != nil {
		t.Fatal(err)
	}
	apply(t, s, co("e1"), office, req(t, gateway.Create, gateway.Artisan, artisanProps), Applied)
	if _, err := db.Collection(Locks).InsertOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "msg", Value: "co/alive"},
		{Key: "token", Value: "t1"}, {Key: "until", Value: time.Now().Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	type result struct {
		o   Outcome
		err error
	}
	done := make(chan result, 1)
	update := rename(t, "Bo")
	go func() {
		o, err := s.Apply(ctx, ka("e2"), byA, update)
		done <- result{o, err}
	}()
	select {
	case r := <-done:
		t.Fatalf("%v (%v) while another held the lease", r.o.Result, r.err)
	case <-time.After(200 * time.Millisecond): // not done yet, as it must not be
	}
	// The holder releases it: the waiting message goes through.
	if _, err := db.Collection(Locks).DeleteOne(ctx, bson.D{{Key: "token", Value: "t1"}}); err != nil {
		t.Fatal(err)
	}
	if r := <-done; r.err != nil || r.o.Result != Applied {
		t.Fatalf("got %v (%v), want applied", r.o.Result, r.err)
	}
	wantCount(t, db, Locks, nil, 0)
}

// With MaxAge, messages too old or too far ahead are refused, and Prune
// forgets the ones signed before now - MaxAge; a replay of a forgotten
// message is refused by the horizon, also by a gateway without MaxAge.
func TestPrune(t *testing.T) {
	s, db := newStore(t)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := t0
	s.Now = func() time.Time { return clock }
	s.MaxAge = time.Hour
	at := func(id string, ts time.Time) gateway.MessageID {
		m := co(id)
		m.TS = ts
		return m
	}
	create := req(t, gateway.Create, gateway.Artisan, artisanProps)
	o := apply(t, s, at("old", t0.Add(-61*time.Minute)), office, create, Refused)
	if !strings.HasPrefix(o.Reason, "too-old: signed at 2026-03-01T10:59:00Z, more than the maximum age 1h0m0s ago") {
		t.Fatalf("reason %q", o.Reason)
	}
	o = apply(t, s, at("ahead", t0.Add(61*time.Minute)), office, create, Refused)
	if !strings.HasPrefix(o.Reason, "future: ") {
		t.Fatalf("reason %q", o.Reason)
	}
	apply(t, s, at("p1", t0.Add(-50*time.Minute)), office, create, Applied)
	apply(t, s, at("p2", t0.Add(-10*time.Minute)), office, rename(t, "Bob"), Applied)
	legacy := gateway.MessageID{ID: "legacy-1", Signature: "h"}
	apply(t, s, legacy, office, rename(t, "Cy"), Applied)

	clock = t0.Add(20 * time.Minute) // p1 is now 70 minutes old
	// While another gateway prunes, this one does not wait for it.
	ctx := context.Background()
	if _, err := db.Collection(Locks).InsertOne(ctx, bson.D{{Key: "_id", Value: Horizon + "/" + horizonID},
		{Key: "token", Value: "other"}, {Key: "until", Value: time.Now().Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Prune(ctx); err != nil || n != 0 {
		t.Fatalf("pruned %d (%v) beside another pruner", n, err)
	}
	if _, err := db.Collection(Locks).DeleteOne(ctx, bson.D{{Key: "token", Value: "other"}}); err != nil {
		t.Fatal(err)
	}
	n, err := s.Prune(ctx)
	if err != nil || n != 1 {
		t.Fatalf("pruned %d (%v), want 1", n, err)
	}
	if get(t, s, AppliedIDs, "co/p1") != nil || get(t, s, AppliedIDs, "co/p2") == nil || get(t, s, AppliedIDs, "legacy-1") == nil {
		t.Fatal("pruned the wrong records")
	}
	if h := get(t, s, Horizon, horizonID); h["before"] != t0.Add(-40*time.Minute) {
		t.Fatalf("horizon %v", h)
	}
	if n, err := s.Prune(context.Background()); err != nil || n != 0 {
		t.Fatalf("pruned again at once: %d (%v)", n, err)
	}
	// The artisan deleted, then p1 replayed to a gateway that has no age
	// limit: the horizon refuses it.
	apply(t, s, at("p3", clock), office, req(t, gateway.Delete, gateway.Artisan, `{"oid":"`+artisanA+`"}`), Applied)
	other := New(db)
	o = apply(t, other, at("p1", t0.Add(-50*time.Minute)), office, create, Refused)
	if !strings.Contains(o.Reason, "horizon") {
		t.Fatalf("reason %q", o.Reason)
	}
	apply(t, other, at("p1", t0.Add(-50*time.Minute)), office, create, Refused) // without a look, this time
	if doc := get(t, s, "artisans", artisanA); doc != nil {
		t.Fatalf("got %v", doc)
	}
	wantCount(t, db, AppliedIDs, nil, 3)
}

// An object written by a message whose record is missing (a write that
// landed after its lease was resolved) makes that message already applied,
// and its record is written again.
func TestApplyRestoresRecord(t *testing.T) {
	s, db := newStore(t)
	apply(t, s, co("m1"), office, req(t, gateway.Create, gateway.Artisan, artisanProps), Applied)
	if _, err := db.Collection(AppliedIDs).DeleteOne(context.Background(), bson.D{{Key: "_id", Value: "co/m1"}}); err != nil {
		t.Fatal(err)
	}
	apply(t, s, co("m1"), office, req(t, gateway.Create, gateway.Artisan, artisanProps), AlreadyApplied)
	wantCount(t, db, AppliedIDs, bson.D{{Key: "_id", Value: "co/m1"}}, 1)
}
