// Package gatewaystore applies the Artisan Gateway's decisions (package
// gateway) to MongoDB, so that each message takes effect at most once.
//
// There are no transactions (FerretDB has none), so every change is one
// single-document write, conditional on what was read:
//
//   - Each stored object carries "_rev", the id of the envelope that last
//     wrote it, and "_applied", the ids of every envelope applied to it.
//     An update rewrites the document only where "_rev" is still the one
//     read, and appends its id to "_applied" in the same write. A message
//     whose id is in "_applied" was applied already: redelivery after a
//     crash changes nothing.
//   - A delete first records the object, its "_applied" and the delete's
//     own id in the "deleted" collection (keyed by the envelope id), then
//     removes the object where "_rev" is still the one read. The record
//     lets a redelivered delete, or a redelivered create or update of the
//     deleted object, be recognised as already applied; it is also the
//     archive of what was deleted.
//   - Gateway instances working side by side take a lease on the object
//     (an insert into "locks" keyed by collection/oid: a unique insert is
//     atomic on every server) for the read-decide-write, because FerretDB's
//     conditional update is not atomic. A lease left by a crash expires
//     after LeaseTTL. On MongoDB, the conditional write alone would do; a
//     writer that ignores leases (hms-store upsert) makes it match nothing,
//     and the message is decided again on the new state.
//
// Rejected messages go to the "rejected" collection, keyed by the SHA-256
// of the line, so a redelivered rejection is recorded once.
package gatewaystore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/hms-toolkit/hms/pkg/gateway"
)

// Collections besides the objects' own (gateway.Target.Collection).
const (
	Rejected = "rejected"
	Deleted  = "deleted"
	Locks    = "locks"
)

// LeaseTTL is how long a lease on an object holds when its holder does not
// release it (it crashed): others wait for it that long at most.
const LeaseTTL = 30 * time.Second

// ErrBusy is returned when another writer held an object for longer than
// LeaseTTL allows; retrying later is the remedy.
var ErrBusy = errors.New("gatewaystore: object busy")

// Bookkeeping fields of a stored object.
const (
	fieldRev     = "_rev"
	fieldApplied = "_applied"
)

// Store applies gateway decisions to one database.
type Store struct {
	db *mongo.Database
	// Now is the clock (time.Now if nil); times are stored to the
	// millisecond, as BSON dates.
	Now func() time.Time
}

// New returns a Store on db.
func New(db *mongo.Database) *Store { return &Store{db: db} }

func (s *Store) now() time.Time {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	return now().UTC().Truncate(time.Millisecond)
}

// EnsureIndexes creates the index that finds a deleted object by the ids
// applied to it. It is idempotent.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	_, err := s.db.Collection(Deleted).Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys: bson.D{{Key: "applied", Value: 1}},
	})
	return err
}

// Result is what became of a message.
type Result int

// Results.
const (
	Applied        Result = iota + 1 // the write was made
	AlreadyApplied                   // the envelope id took effect before
	Refused                          // rejected by the gateway's rules; nothing changed
)

func (r Result) String() string {
	switch r {
	case Applied:
		return "applied"
	case AlreadyApplied:
		return "already applied"
	case Refused:
		return "rejected"
	}
	return fmt.Sprintf("Result(%d)", int(r))
}

// Outcome is a Result with its details.
type Outcome struct {
	Result Result
	Kind   gateway.WriteKind // the write made, when Applied
	Reason string            // why, when Refused
}

// maxConflicts bounds how often a message is decided again because another
// writer changed the object in between.
const maxConflicts = 20

// Apply decides and applies req, sent by who in the envelope envID. The
// error is only for failures to reach the data (worth retrying: Apply is
// idempotent); a rejection is an Outcome.
func (s *Store) Apply(ctx context.Context, envID string, who gateway.Identity, req *gateway.Request) (Outcome, error) {
	if envID == "" {
		return Outcome{}, errors.New("gatewaystore: empty envelope id")
	}
	coll := s.db.Collection(req.Target.Collection())
	owners := func(p string) (string, bool, error) {
		doc, err := s.get(ctx, gateway.Product.Collection(), p)
		if err != nil || doc == nil {
			return "", false, err
		}
		id, _ := doc["artisan_id"].(string)
		return id, true, nil
	}
	release, err := s.lease(ctx, coll.Name()+"/"+req.OID, envID)
	if err != nil {
		return Outcome{}, err
	}
	defer release()
	for range maxConflicts {
		cur, err := s.get(ctx, coll.Name(), req.OID)
		if err != nil {
			return Outcome{}, err
		}
		applied := stringList(cur[fieldApplied])
		if slices.Contains(applied, envID) {
			return Outcome{Result: AlreadyApplied}, nil
		}
		var rec *deletion
		if req.Operation == gateway.Delete {
			if rec, err = s.deletion(ctx, envID); err != nil {
				return Outcome{}, err
			}
			// Recorded, and the object it was about is gone (or this is a
			// new object of the same oid, whose history does not include
			// the recorded one): the delete was made.
			if rec != nil && (cur == nil || !slices.Contains(applied, rec.Rev.(string))) {
				return Outcome{Result: AlreadyApplied}, nil
			}
		} else if cur == nil {
			// A create or update of an object since deleted?
			n, err := s.db.Collection(Deleted).CountDocuments(ctx, bson.D{{Key: "applied", Value: envID}})
			if err != nil {
				return Outcome{}, err
			}
			if n > 0 {
				return Outcome{Result: AlreadyApplied}, nil
			}
		}

		w, err := gateway.Decide(who, req, cur, owners, s.now())
		if err != nil {
			var r *gateway.Rejection
			if errors.As(err, &r) {
				return Outcome{Result: Refused, Reason: r.Reason}, nil
			}
			return Outcome{}, err
		}
		rev := cur[fieldRev] // nil for an object stored without one: matches a missing field
		var done bool
		switch w.Kind {
		case gateway.Insert:
			doc := toBSON(w.Doc)
			doc = append(doc, bson.E{Key: fieldRev, Value: envID}, bson.E{Key: fieldApplied, Value: bson.A{envID}})
			_, err = coll.InsertOne(ctx, doc)
			if mongo.IsDuplicateKeyError(err) {
				continue // created meanwhile: decide again
			}
			done = err == nil
		case gateway.Replace:
			// The new document as $set of every field and $unset of the
			// removed ones: the same result as a replace, and several times
			// faster on FerretDB, whose replace path is slow.
			set := without(w.Doc, "_id")
			set[fieldRev] = envID
			set[fieldApplied] = append(slices.Clone(applied), envID)
			update := bson.D{{Key: "$set", Value: toBSON(set)}}
			var unset bson.D
			for _, k := range slices.Sorted(maps.Keys(cur)) {
				if _, ok := set[k]; !ok && k != "_id" {
					unset = append(unset, bson.E{Key: k, Value: ""})
				}
			}
			if len(unset) > 0 {
				update = append(update, bson.E{Key: "$unset", Value: unset})
			}
			var res *mongo.UpdateResult
			res, err = coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: req.OID}, {Key: fieldRev, Value: rev}}, update)
			done = err == nil && res.MatchedCount == 1
		case gateway.Remove:
			d := deletion{
				ID: envID, Collection: coll.Name(), OID: req.OID, Rev: rev, Time: s.now(),
				Applied: append(slices.Clone(applied), envID), Doc: toBSON(without(cur, fieldRev, fieldApplied)),
			}
			if rec == nil {
				_, err = s.db.Collection(Deleted).InsertOne(ctx, d.bson())
				if mongo.IsDuplicateKeyError(err) {
					continue
				}
			} else {
				// An earlier attempt recorded the delete but did not make it:
				// record what is deleted now.
				_, err = s.db.Collection(Deleted).ReplaceOne(ctx, bson.D{{Key: "_id", Value: envID}}, d.bson())
			}
			if err != nil {
				return Outcome{}, err
			}
			var res *mongo.DeleteResult
			res, err = coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: req.OID}, {Key: fieldRev, Value: rev}})
			done = err == nil && res.DeletedCount == 1
		}
		if err != nil {
			return Outcome{}, err
		}
		if done {
			return Outcome{Result: Applied, Kind: w.Kind}, nil
		}
		// Another writer changed the object between our read and write.
	}
	return Outcome{}, fmt.Errorf("gatewaystore: %s %s changed under us %d times in a row", req.Target, req.OID, maxConflicts)
}

// lease takes the lease named key for envID, waiting (with backoff) while
// another holds it, and breaking it once expired. release gives it back.
func (s *Store) lease(ctx context.Context, key, envID string) (release func(), err error) {
	locks := s.db.Collection(Locks)
	release = func() {
		// Also after ctx is cancelled: a lease must not outlive its work.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		locks.DeleteOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "owner", Value: envID}})
	}
	deadline := time.Now().Add(LeaseTTL + 5*time.Second)
	wait := 2 * time.Millisecond
	for {
		now := s.now()
		_, err := locks.InsertOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "owner", Value: envID},
			{Key: "until", Value: now.Add(LeaseTTL)}})
		if err == nil {
			return release, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return nil, err
		}
		held, err := s.get(ctx, Locks, key)
		if err != nil {
			return nil, err
		}
		if held != nil {
			until, _ := held["until"].(time.Time)
			if held["owner"] == envID {
				return release, nil // ours, from an attempt that did not finish
			}
			if !until.After(now) {
				// Expired: its holder died. Break it (only that very lease)
				// and compete for it again.
				if _, err := locks.DeleteOne(ctx, bson.D{{Key: "_id", Value: key},
					{Key: "owner", Value: held["owner"]}, {Key: "until", Value: until}}); err != nil {
					return nil, err
				}
				continue
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%w: %s is held by another writer", ErrBusy, key)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}

// deletion is the record of a delete in the Deleted collection.
type deletion struct {
	ID         string // the delete's envelope id
	Collection string
	OID        string
	Rev        any      // the _rev of the object deleted
	Applied    []string // its _applied, and the delete's id
	Time       time.Time
	Doc        bson.D // the object as it was
}

func (d *deletion) bson() bson.D {
	return bson.D{
		{Key: "_id", Value: d.ID}, {Key: "collection", Value: d.Collection}, {Key: "oid", Value: d.OID},
		{Key: "rev", Value: d.Rev}, {Key: "applied", Value: toArray(d.Applied)}, {Key: "time", Value: d.Time},
		{Key: "object", Value: d.Doc},
	}
}

func (s *Store) deletion(ctx context.Context, envID string) (*deletion, error) {
	doc, err := s.get(ctx, Deleted, envID)
	if err != nil || doc == nil {
		return nil, err
	}
	rev, _ := doc["rev"].(string)
	return &deletion{ID: envID, Rev: rev}, nil
}

// get reads one document by _id as a map (nil when there is none).
func (s *Store) get(ctx context.Context, coll, id string) (map[string]any, error) {
	raw, err := s.db.Collection(coll).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return fromRaw(raw)
}

// Rejection is a refused message, for the audit trail.
type Rejection struct {
	Line      []byte // the message as received
	ID        string // its envelope id, when it could be read (not trusted)
	Origin    string // the origin it claims, or its key's
	KID       string
	Operation string
	Target    string
	OID       string
	Reason    string
}

// maxAuditLine is how much of a rejected line the audit keeps.
const maxAuditLine = 64 << 10

// Reject records r in the Rejected collection with the time, once per
// distinct line.
func (s *Store) Reject(ctx context.Context, r Rejection) error {
	sum := sha256.Sum256(r.Line)
	line, truncated := r.Line, false
	if len(line) > maxAuditLine {
		line, truncated = line[:maxAuditLine], true
	}
	doc := bson.D{{Key: "_id", Value: hex.EncodeToString(sum[:])}, {Key: "time", Value: s.now()}, {Key: "reason", Value: r.Reason}}
	for _, kv := range [][2]string{{"id", r.ID}, {"origin", r.Origin}, {"kid", r.KID},
		{"operation", r.Operation}, {"target", r.Target}, {"oid", r.OID}} {
		if kv[1] != "" {
			doc = append(doc, bson.E{Key: kv[0], Value: kv[1]})
		}
	}
	doc = append(doc, bson.E{Key: "line", Value: string(line)})
	if truncated {
		doc = append(doc, bson.E{Key: "truncated", Value: true})
	}
	_, err := s.db.Collection(Rejected).InsertOne(ctx, doc)
	if mongo.IsDuplicateKeyError(err) {
		return nil // this very line was rejected before
	}
	return err
}

// toBSON turns a gateway document (normal forms: string, bool, float64,
// int64, time.Time, maps of those) into a BSON document with sorted keys,
// "_id" first.
func toBSON(m map[string]any) bson.D {
	keys := slices.Sorted(maps.Keys(m))
	d := make(bson.D, 0, len(keys))
	if id, ok := m["_id"]; ok {
		d = append(d, bson.E{Key: "_id", Value: id})
	}
	for _, k := range keys {
		if k == "_id" {
			continue
		}
		v := m[k]
		switch x := v.(type) {
		case map[string]any:
			v = toBSON(x)
		case time.Time:
			v = bson.NewDateTimeFromTime(x)
		case []string:
			v = toArray(x)
		}
		d = append(d, bson.E{Key: k, Value: v})
	}
	return d
}

func toArray(s []string) bson.A {
	a := make(bson.A, len(s))
	for i, x := range s {
		a[i] = x
	}
	return a
}

// fromRaw reads a BSON document into a map: strings, booleans, int32,
// int64, float64, time.Time, nil, maps and slices. Other BSON types are
// kept as bson.RawValue, which the gateway's rules refuse.
func fromRaw(raw bson.Raw) (map[string]any, error) {
	els, err := raw.Elements()
	if err != nil {
		return nil, err
	}
	m := make(map[string]any, len(els))
	for _, e := range els {
		v, err := fromValue(e.Value())
		if err != nil {
			return nil, err
		}
		m[e.Key()] = v
	}
	return m, nil
}

func fromValue(v bson.RawValue) (any, error) {
	switch v.Type {
	case bson.TypeString:
		return v.StringValue(), nil
	case bson.TypeBoolean:
		return v.Boolean(), nil
	case bson.TypeInt32:
		return v.Int32(), nil
	case bson.TypeInt64:
		return v.Int64(), nil
	case bson.TypeDouble:
		return v.Double(), nil
	case bson.TypeDateTime:
		return time.UnixMilli(v.DateTime()).UTC(), nil
	case bson.TypeNull:
		return nil, nil
	case bson.TypeEmbeddedDocument:
		return fromRaw(v.Document())
	case bson.TypeArray:
		vals, err := v.Array().Values()
		if err != nil {
			return nil, err
		}
		out := make([]any, len(vals))
		for i, x := range vals {
			if out[i], err = fromValue(x); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return v, nil
}

func stringList(v any) []string {
	a, _ := v.([]any)
	out := make([]string, 0, len(a))
	for _, x := range a {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func without(m map[string]any, keys ...string) map[string]any {
	c := maps.Clone(m)
	for _, k := range keys {
		delete(c, k)
	}
	return c
}
