package gatewaystore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
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

func apply(t *testing.T, s *Store, id string, who gateway.Identity, r *gateway.Request, want Result) Outcome {
	t.Helper()
	o, err := s.Apply(context.Background(), id, who, r)
	if err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	if o.Result != want {
		t.Fatalf("%s: got %v (%s), want %v", id, o.Result, o.Reason, want)
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

// Every message takes effect at most once, whatever is redelivered when.
func TestApplyAtMostOnce(t *testing.T) {
	s, _ := newStore(t)
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { clock = clock.Add(time.Second); return clock }

	create := req(t, gateway.Create, gateway.Artisan, artisanProps)
	apply(t, s, "e1", office, create, Applied)
	apply(t, s, "e1", office, create, AlreadyApplied)
	doc := get(t, s, "artisans", artisanA)
	if doc["contact_name"] != "Ann" || doc["_rev"] != "e1" || doc["oid"] != artisanA {
		t.Fatalf("after create: %v", doc)
	}
	created := doc["created"]

	rename := func(name string) *gateway.Request {
		return req(t, gateway.Update, gateway.Artisan, `{"oid":"`+artisanA+`","contact_name":"`+name+`"}`)
	}
	apply(t, s, "e2", byA, rename("Bob"), Applied)
	apply(t, s, "e3", byA, rename("Cy"), Applied)
	// e2 redelivered after e3: must not bring "Bob" back.
	apply(t, s, "e2", byA, rename("Bob"), AlreadyApplied)
	doc = get(t, s, "artisans", artisanA)
	if doc["contact_name"] != "Cy" || doc["created"] != created || doc["modified"] == created {
		t.Fatalf("after updates: %v", doc)
	}
	if got := stringList(doc["_applied"]); len(got) != 3 {
		t.Fatalf("_applied = %v", got)
	}

	del := req(t, gateway.Delete, gateway.Artisan, `{"oid":"`+artisanA+`"}`)
	apply(t, s, "e4", office, del, Applied)
	apply(t, s, "e4", office, del, AlreadyApplied)
	if doc := get(t, s, "artisans", artisanA); doc != nil {
		t.Fatalf("deleted artisan still there: %v", doc)
	}
	// The create and an update redelivered after the delete: no resurrection.
	apply(t, s, "e1", office, create, AlreadyApplied)
	apply(t, s, "e3", byA, rename("Cy"), AlreadyApplied)
	if doc := get(t, s, "artisans", artisanA); doc != nil {
		t.Fatalf("deleted artisan came back: %v", doc)
	}
	arch := get(t, s, Deleted, "e4")
	if arch == nil || arch["oid"] != artisanA || arch["object"].(map[string]any)["contact_name"] != "Cy" {
		t.Fatalf("deletion record: %v", arch)
	}

	// A new object of the same oid is a new life: a fresh create applies,
	// and the old delete redelivered does not delete it.
	apply(t, s, "e5", office, create, Applied)
	apply(t, s, "e4", office, del, AlreadyApplied)
	if doc := get(t, s, "artisans", artisanA); doc == nil || doc["_rev"] != "e5" {
		t.Fatalf("re-created artisan: %v", doc)
	}
}

// A delete recorded but not made (a crash in between) is finished when the
// message comes again.
func TestApplyFinishesInterruptedDelete(t *testing.T) {
	s, db := newStore(t)
	ctx := context.Background()
	apply(t, s, "e1", office, req(t, gateway.Create, gateway.Artisan, artisanProps), Applied)
	rec := deletion{ID: "e2", Collection: "artisans", OID: artisanA, Rev: "e1", Applied: []string{"e1", "e2"}, Time: s.now()}
	if _, err := db.Collection(Deleted).InsertOne(ctx, rec.bson()); err != nil {
		t.Fatal(err)
	}
	apply(t, s, "e2", office, req(t, gateway.Delete, gateway.Artisan, `{"oid":"`+artisanA+`"}`), Applied)
	if doc := get(t, s, "artisans", artisanA); doc != nil {
		t.Fatalf("not deleted: %v", doc)
	}
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
	if _, err := db.Collection("artisans").InsertOne(ctx, props); err != nil {
		t.Fatal(err)
	}
	apply(t, s, "e1", byA, req(t, gateway.Update, gateway.Artisan, `{"oid":"`+artisanA+`","company_name":"Ann & Co"}`), Applied)
	if doc := get(t, s, "artisans", artisanA); doc["company_name"] != "Ann & Co" || doc["_rev"] != "e1" {
		t.Fatalf("got %v", doc)
	}
	apply(t, s, "e1b", byA, req(t, gateway.Update, gateway.Artisan, `{"oid":"`+artisanA+`","company_name":null}`), Applied)
	if doc := get(t, s, "artisans", artisanA); doc["company_name"] != nil || doc["contact_name"] != "Ann" {
		t.Fatalf("after removing company_name: %v", doc)
	}
	o := apply(t, s, "e2", byA, req(t, gateway.Update, gateway.Artisan, `{"oid":"`+artisanA+`","website":12.345}`), Refused)
	if o.Reason == "" {
		t.Fatal("no reason")
	}
	apply(t, s, "e3", office, req(t, gateway.Update, gateway.Order, `{"oid":"`+order1+`","name":"x"}`), Refused)

	r := Rejection{Line: []byte(`{"bad":1}`), Reason: "malformed", ID: "e9"}
	for range 2 {
		if err := s.Reject(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	n, err := db.Collection(Rejected).CountDocuments(ctx, bson.D{})
	if err != nil || n != 1 {
		t.Fatalf("rejected has %d records (%v), want 1", n, err)
	}
}

// An artisan's fulfilment looks up product owners in the products collection.
func TestApplyFulfilment(t *testing.T) {
	s, _ := newStore(t)
	apply(t, s, "p1", byA, req(t, gateway.Create, gateway.Product,
		`{"oid":"`+productA+`","name":"Box","summary":"A box","artisan_id":"`+artisanA+`"}`), Applied)
	apply(t, s, "o1", office, req(t, gateway.Create, gateway.Order,
		`{"oid":"`+order1+`","name":"Cust","street_address":"s","city":"c","items":{"`+productA+`":3}}`), Applied)
	apply(t, s, "o2", byA, req(t, gateway.Update, gateway.Order,
		`{"oid":"`+order1+`","fulfilled_items":{"`+productA+`":2}}`), Applied)
	apply(t, s, "o3", byA, req(t, gateway.Update, gateway.Order,
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
	apply(t, s, "c0", office, req(t, gateway.Create, gateway.Artisan, artisanProps), Applied)
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
			o, err := other.Apply(context.Background(), id, byA, r)
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
	doc := get(t, s, "artisans", artisanA)
	applied := stringList(doc["_applied"])
	if len(applied) != n+1 {
		t.Fatalf("_applied has %d ids, want %d: %v", len(applied), n+1, applied)
	}
	if last := applied[len(applied)-1]; doc["_rev"] != last || doc["contact_name"] != last {
		t.Fatalf("_rev %v, contact_name %v, last applied %v", doc["_rev"], doc["contact_name"], last)
	}
}

// A lease left by a writer that died is broken once expired; one left by an
// earlier attempt of the same message is taken over at once.
func TestApplyStaleLease(t *testing.T) {
	s, db := newStore(t)
	ctx := context.Background()
	key := "artisans/" + artisanA
	if _, err := db.Collection(Locks).InsertOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "owner", Value: "dead"},
		{Key: "until", Value: time.Now().Add(-time.Second)}}); err != nil {
		t.Fatal(err)
	}
	apply(t, s, "e1", office, req(t, gateway.Create, gateway.Artisan, artisanProps), Applied)
	if _, err := db.Collection(Locks).InsertOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "owner", Value: "e2"},
		{Key: "until", Value: time.Now().Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	apply(t, s, "e2", byA, req(t, gateway.Update, gateway.Artisan, `{"oid":"`+artisanA+`","contact_name":"Bo"}`), Applied)
	if n, err := db.Collection(Locks).CountDocuments(ctx, bson.D{}); err != nil || n != 0 {
		t.Fatalf("%d leases left (%v), want 0", n, err)
	}
}
