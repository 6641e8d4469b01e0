// Package gatewaystore applies the Artisan Gateway's decisions (package
// gateway) to MongoDB so that each message takes effect at most once,
// whatever becomes of its object afterwards: updated, deleted, created
// again, deleted again.
//
// # What is stored
//
//   - The objects, in artisans, products and orders (_id = oid). Each
//     carries "_rev", the key of the message that last wrote it
//     (gateway.MessageID.Key: "KID/ID").
//   - "applied": the memory of applied messages, one record per message
//     that took effect, keyed by its identity (kid/id, or the legacy line
//     hash), with its signature, its signing time, what it did and the
//     lease it was applied under. It does not live in the objects, so it
//     outlives them. Records are inserted and deleted, never updated
//     (FerretDB's updates scan the whole collection).
//   - "deleted": the archive of deleted objects, keyed by the delete's key.
//   - "locks": leases, one per object being worked on.
//   - "rejected": the audit trail of refused messages.
//   - "horizon": how far back the memory reaches once pruned (Prune).
//
// # Applying a message without transactions
//
// FerretDB has no transactions, so Apply uses single-document operations
// only. It works under a lease on the message's object (a unique insert
// into "locks", atomic on every server; see lease), and then:
//
//  1. looks the message up in "applied": there with the same signature, it
//     took effect before ("already applied"); with another signature, its
//     identity belongs to another message (refused);
//  2. decides (package gateway) on the object as it is now; a refusal
//     writes nothing (and leaves no memory: it did not take effect);
//  3. claims the message: inserts its record into "applied". The unique
//     _id makes this the one step that decides between two messages of one
//     identity racing on two objects: the loser is looked up as in 1;
//  4. makes the effect: one single-document write conditional on the _rev
//     it read, setting _rev to the message's key; a delete first archives
//     the object in "deleted", then removes it;
//  5. releases the lease.
//
// Refusals and redeliveries write nothing but the lease: on FerretDB,
// whose deletes and updates scan the whole collection, nothing is ever
// deleted from "applied" on the way of a message (only when resolving a
// crash, below, and in Prune).
//
// # Why a crash can neither lose nor double an effect
//
// The claim is written before the effect, so no effect exists without its
// claim, and a message whose claim exists is never applied again: no
// double effect, whatever happened to the object since.
//
// A claim without its effect exists only between steps 3 and 4, and only
// under its lease: Apply releases a lease only when the claim and the
// effect agree (both there, or neither). A crash or a database error in
// between leaves the lease behind, naming the message's key and the
// lease's token (which the claim and the archive record carry too).
// Whoever takes the object next (after LeaseTTL; at once for the Store that
// left it, retrying) first resolves that lease: the effect was made if the
// object's _rev is the message's key (for a delete: the object is gone and
// archived). Then the claim stays. If not, the claim and any half-made
// archive record are deleted, and the message, when it comes back (its
// batch was never acknowledged), is decided afresh: no lost effect.
// Resolution deletes only records carrying the lease's own token, so it
// never touches a later attempt of the same message, and every step of it
// is idempotent: a crash while resolving is resolved by the next taker.
//
// The argument uses only single-document inserts, finds, deletes and one
// conditional update, so it holds on MongoDB and on FerretDB, whose
// conditional update is not atomic (the lease keeps a second writer away).
// Its one assumption is the lease's: a gateway stalled for longer than
// LeaseTTL inside one message may find its lease broken. A writer that
// ignores leases (hms-store upsert) makes the conditional write match
// nothing, and the message is decided again on the new state.
package gatewaystore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/hms-toolkit/hms/pkg/gateway"
)

// Collections besides the objects' own (gateway.Target.Collection).
const (
	AppliedIDs = "applied"
	Rejected   = "rejected"
	Deleted    = "deleted"
	Locks      = "locks"
	Horizon    = "horizon"
)

// The stored object's bookkeeping field: the key of the message that last
// wrote it.
const fieldRev = "_rev"

// Store applies gateway decisions to one database. It is safe for
// concurrent use; several Stores (several gateways) may share a database.
type Store struct {
	db *mongo.Database
	// Now is the clock for the times stored (time.Now if nil); they are
	// kept to the millisecond, as BSON dates. Leases use the real clock.
	Now func() time.Time
	// MaxAge, when positive, refuses hms messages signed more than MaxAge
	// ago or ahead, and is how much of the memory Prune keeps.
	MaxAge time.Duration

	mu   sync.Mutex
	left map[string]string // leases left behind after an error: lease _id -> token
	seen time.Time         // the latest horizon read

	// fault, in tests, fails Apply after the step it names ("claim",
	// "archive", "write"), as a crash or a lost connection would.
	fault func(step string) error
}

func (s *Store) after(step string) error {
	if s.fault == nil {
		return nil
	}
	return s.fault(step)
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

// EnsureIndexes creates the index Prune uses. It is idempotent.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	_, err := s.db.Collection(AppliedIDs).Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys: bson.D{{Key: fieldTS, Value: 1}},
	})
	return err
}

// Result is what became of a message.
type Result int

// Results.
const (
	Applied        Result = iota + 1 // the write was made
	AlreadyApplied                   // the message took effect before
	Refused                          // refused (the gateway's rules, a reused id, its age); nothing changed
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

func refused(format string, args ...any) Outcome {
	return Outcome{Result: Refused, Reason: fmt.Sprintf(format, args...)}
}

// maxConflicts bounds how often a message is decided again because a
// writer that ignores leases changed the object in between.
const maxConflicts = 20

// Apply decides and applies req, sent by who in the message m. The error
// is only for failures to reach the data (worth retrying: Apply is
// idempotent); a refusal is an Outcome.
func (s *Store) Apply(ctx context.Context, m gateway.MessageID, who gateway.Identity, req *gateway.Request) (Outcome, error) {
	if m.ID == "" || m.Signature == "" {
		return Outcome{}, errors.New("gatewaystore: a message needs an id and a signature")
	}
	if reason := s.ageRejection(m); reason != "" {
		return refused("%s", reason), nil
	}
	l, err := s.lease(ctx, req.Target.Collection()+"/"+req.OID, m.Key(), leaseWait)
	if err != nil {
		return Outcome{}, err
	}
	a := &attempt{Store: s, m: m, key: m.Key(), lease: l, who: who, req: req}
	out, err := a.run(ctx)
	if err != nil && a.claimed {
		// The claim and the effect may disagree: the lease stays, for
		// whoever takes the object next to resolve.
		s.leave(l)
	} else {
		s.release(ctx, l)
	}
	return out, err
}

// attempt is one message applied under one lease.
type attempt struct {
	*Store
	m     gateway.MessageID
	key   string
	lease lease
	who   gateway.Identity
	req   *gateway.Request
	// claimed is set while the message's claim may exist without its
	// effect (or the other way round): from the claim's insert until the
	// effect or the withdrawal is known to be made.
	claimed bool
}

func (a *attempt) run(ctx context.Context) (Outcome, error) {
	if out, known, err := a.remembered(ctx); err != nil || known {
		return out, err
	}
	if reason := a.beforeHorizon(a.seenHorizon()); reason != "" {
		return refused("%s", reason), nil
	}
	coll := a.db.Collection(a.req.Target.Collection())
	for range maxConflicts {
		cur, err := a.get(ctx, coll.Name(), a.req.OID)
		if err != nil {
			return Outcome{}, err
		}
		if cur[fieldRev] == a.key {
			// The effect is there: an earlier attempt's write landed after
			// it reported an error (and after the lease it left was
			// resolved). The record must be there too.
			if !a.claimed {
				if _, err := a.db.Collection(AppliedIDs).InsertOne(ctx, a.record()); err != nil && !mongo.IsDuplicateKeyError(err) {
					return Outcome{}, err
				}
			}
			a.claimed = false
			return Outcome{Result: AlreadyApplied}, nil
		}
		w, err := gateway.Decide(a.who, a.req, cur, a.owners(ctx), a.now())
		if err != nil {
			var r *gateway.Rejection
			if !errors.As(err, &r) {
				return Outcome{}, err
			}
			if a.claimed { // decided again after a conflict
				return a.withdraw(ctx, Outcome{Result: Refused, Reason: r.Reason})
			}
			return Outcome{Result: Refused, Reason: r.Reason}, nil
		}
		if !a.claimed {
			if out, ok, err := a.claim(ctx); err != nil || !ok {
				return out, err
			}
		}
		done, err := a.write(ctx, coll, w, cur)
		if err == nil && done {
			err = a.after("write")
		}
		if err != nil {
			return Outcome{}, err
		}
		if done {
			a.claimed = false
			return Outcome{Result: Applied, Kind: w.Kind}, nil
		}
		// A writer that ignores leases changed the object between our read
		// and our write: decide again.
	}
	return Outcome{}, fmt.Errorf("gatewaystore: %s %s changed under us %d times in a row", a.req.Target, a.req.OID, maxConflicts)
}

// owners looks up the artisan owning a product, for an artisan's fulfilment.
func (a *attempt) owners(ctx context.Context) gateway.Owners {
	return func(p string) (string, bool, error) {
		doc, err := a.get(ctx, gateway.Product.Collection(), p)
		if err != nil || doc == nil {
			return "", false, err
		}
		id, _ := doc["artisan_id"].(string)
		return id, true, nil
	}
}

// withdraw deletes the attempt's claim (nothing took effect) and returns
// out.
func (a *attempt) withdraw(ctx context.Context, out Outcome) (Outcome, error) {
	if err := a.unclaim(ctx, a.key, a.lease.token); err != nil {
		return Outcome{}, err
	}
	a.claimed = false
	return out, nil
}

// write makes the effect of w on cur, conditional on cur's _rev. done is
// false when the object changed meanwhile (nothing was written).
func (a *attempt) write(ctx context.Context, coll *mongo.Collection, w *gateway.Write, cur map[string]any) (done bool, err error) {
	rev := cur[fieldRev] // nil for an object stored without one: matches a missing field
	switch w.Kind {
	case gateway.Insert:
		doc := append(toBSON(w.Doc), bson.E{Key: fieldRev, Value: a.key})
		_, err = coll.InsertOne(ctx, doc)
		if mongo.IsDuplicateKeyError(err) {
			return false, nil // created meanwhile
		}
		return err == nil, err
	case gateway.Replace:
		// The new document as $set of every field and $unset of the removed
		// ones: the same result as a replace, and several times faster on
		// FerretDB, whose replace path is slow.
		set := without(w.Doc, "_id")
		set[fieldRev] = a.key
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
		res, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: a.req.OID}, {Key: fieldRev, Value: rev}}, update)
		return err == nil && res.MatchedCount == 1, err
	case gateway.Remove:
		if err := a.archive(ctx, coll.Name(), cur); err != nil {
			return false, err
		}
		if err := a.after("archive"); err != nil {
			return false, err
		}
		res, err := coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: a.req.OID}, {Key: fieldRev, Value: rev}})
		if err != nil || res.DeletedCount == 1 {
			return err == nil, err
		}
		// Not deleted: neither is it archived.
		_, err = a.db.Collection(Deleted).DeleteOne(ctx, bson.D{{Key: "_id", Value: a.key}, {Key: fieldLease, Value: a.lease.token}})
		return false, err
	}
	return false, fmt.Errorf("gatewaystore: unknown write %v", w.Kind)
}

// archive records the object about to be deleted in Deleted, keyed by the
// delete's key and marked with the attempt's lease.
func (a *attempt) archive(ctx context.Context, coll string, cur map[string]any) error {
	rec := bson.D{
		{Key: "_id", Value: a.key}, {Key: fieldLease, Value: a.lease.token},
		{Key: "collection", Value: coll}, {Key: "oid", Value: a.req.OID},
		{Key: "rev", Value: cur[fieldRev]}, {Key: "time", Value: a.now()},
		{Key: "object", Value: toBSON(without(cur, fieldRev, "_applied"))},
	}
	deleted := a.db.Collection(Deleted)
	_, err := deleted.InsertOne(ctx, rec)
	if mongo.IsDuplicateKeyError(err) {
		// Left by an attempt that never deleted (then resolved): ours now.
		_, err = deleted.ReplaceOne(ctx, bson.D{{Key: "_id", Value: a.key}}, rec)
	}
	return err
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
