package gatewaystore

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/hms-toolkit/hms/pkg/gateway"
)

// Fields of a record in AppliedIDs (and, for fieldLease, in Deleted).
const (
	fieldSig   = "signature"
	fieldTS    = "ts"    // the message's signing time; absent for the legacy scheme
	fieldLease = "lease" // the token of the lease the message was applied under
	fieldOp    = "operation"
)

// claim inserts the attempt's record into AppliedIDs. isNew is false when
// the identity was taken already; out then says what that means.
func (a *attempt) claim(ctx context.Context) (out Outcome, isNew bool, err error) {
	rec := bson.D{{Key: "_id", Value: a.key}}
	if a.m.KID != "" {
		rec = append(rec, bson.E{Key: "kid", Value: a.m.KID})
	}
	rec = append(rec, bson.E{Key: "id", Value: a.m.ID}, bson.E{Key: fieldSig, Value: a.m.Signature})
	if !a.m.TS.IsZero() {
		rec = append(rec, bson.E{Key: fieldTS, Value: a.m.TS})
	}
	rec = append(rec,
		bson.E{Key: fieldOp, Value: string(a.req.Operation)}, bson.E{Key: "collection", Value: a.req.Target.Collection()},
		bson.E{Key: "oid", Value: a.req.OID}, bson.E{Key: fieldLease, Value: a.lease.token}, bson.E{Key: "time", Value: a.now()})
	applied := a.db.Collection(AppliedIDs)
	for range maxConflicts {
		_, err := applied.InsertOne(ctx, rec)
		if err == nil {
			return Outcome{}, true, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return Outcome{}, false, err
		}
		prev, err := a.get(ctx, AppliedIDs, a.key)
		if err != nil {
			return Outcome{}, false, err
		}
		if prev == nil {
			continue // withdrawn meanwhile by its own attempt elsewhere
		}
		if prev[fieldSig] == a.m.Signature {
			return Outcome{Result: AlreadyApplied}, false, nil
		}
		return reused(a.m, prev), false, nil
	}
	return Outcome{}, false, fmt.Errorf("gatewaystore: the record of %s came and went %d times in a row", a.key, maxConflicts)
}

// reused is the refusal of a message whose identity another message (prev,
// another signature) has: only the key's holder can sign one, and ids are
// used once.
func reused(m gateway.MessageID, prev map[string]any) Outcome {
	what := fmt.Sprintf("%v %s %v", prev[fieldOp], prev["collection"], prev["oid"])
	if m.KID == "" {
		return refused("id %s was used by another message (%s)", m.ID, what)
	}
	return refused("id reused: key %s already signed another message with id %s (%s); an id is used once", m.KID, m.ID, what)
}

// unclaim deletes the record key if it still carries the lease token.
func (s *Store) unclaim(ctx context.Context, key, token string) error {
	_, err := s.db.Collection(AppliedIDs).DeleteOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: fieldLease, Value: token}})
	return err
}

// resolve settles what a lease left behind (see the package doc): the
// message's claim stays if its effect was made, else the claim and a
// half-made archive record go.
func (s *Store) resolve(ctx context.Context, l lease) error {
	if l.msg == "" {
		return nil
	}
	rec, err := s.get(ctx, AppliedIDs, l.msg)
	if err != nil || rec == nil || rec[fieldLease] != l.token {
		return err // nothing claimed under that lease
	}
	coll, _ := rec["collection"].(string)
	oid, _ := rec["oid"].(string)
	cur, err := s.get(ctx, coll, oid)
	if err != nil {
		return err
	}
	if rec[fieldOp] == string(gateway.Delete) {
		arch, err := s.get(ctx, Deleted, l.msg)
		if err != nil {
			return err
		}
		archived := arch != nil && arch[fieldLease] == l.token
		if cur == nil && archived {
			return nil // deleted
		}
		if archived {
			if _, err := s.db.Collection(Deleted).DeleteOne(ctx, bson.D{{Key: "_id", Value: l.msg}, {Key: fieldLease, Value: l.token}}); err != nil {
				return err
			}
		}
	} else if cur != nil && cur[fieldRev] == l.msg {
		return nil // written
	}
	return s.unclaim(ctx, l.msg, l.token)
}

// ageRejection says why m is refused for its age under MaxAge ("" when it
// is not). Legacy messages carry no time and are not judged.
func (s *Store) ageRejection(m gateway.MessageID) string {
	if s.MaxAge <= 0 || m.TS.IsZero() {
		return ""
	}
	now := s.now()
	// Comparisons of times, not a subtraction: no overflow for any ts.
	if m.TS.Before(now.Add(-s.MaxAge)) {
		return fmt.Sprintf("too-old: signed at %s, more than the maximum age %v ago", m.TS.Format(time.RFC3339), s.MaxAge)
	}
	if m.TS.After(now.Add(s.MaxAge)) {
		return fmt.Sprintf("future: signed at %s, more than the maximum age %v ahead", m.TS.Format(time.RFC3339), s.MaxAge)
	}
	return ""
}

const horizonID = "applied"

// horizon is the time before which the memory may have been pruned (the
// zero time when it never was).
func (s *Store) horizon(ctx context.Context) (time.Time, error) {
	doc, err := s.get(ctx, Horizon, horizonID)
	if err != nil || doc == nil {
		return time.Time{}, err
	}
	t, _ := doc["before"].(time.Time)
	return t, nil
}

// beyondHorizon says why the attempt, freshly claimed, is refused because
// its message is older than the horizon ("" when it is not). It is read
// after the claim: Prune moves the horizon before it deletes records, so a
// claim that could be made only because a record was pruned always sees
// the horizon that pruned it.
func (a *attempt) beyondHorizon(ctx context.Context) (string, error) {
	if a.m.TS.IsZero() {
		return "", nil // legacy records are never pruned
	}
	h, err := a.horizon(ctx)
	if err != nil || !a.m.TS.Before(h) {
		return "", err
	}
	return fmt.Sprintf("too-old: signed at %s, before %s, the horizon of the gateway's memory (older messages are no longer remembered, so none is applied)",
		a.m.TS.Format(time.RFC3339), h.Format(time.RFC3339)), nil
}

// Prune forgets the messages signed more than MaxAge ago: it moves the
// horizon to now - MaxAge (never back) and deletes their records. Apply
// refuses every message signed before the horizon, so a pruned record
// never lets a replay through, whatever MaxAge other gateways use. Prune
// does nothing when MaxAge is not set, or when the horizon is less than
// MaxAge/16 behind (so a gateway may call it once per batch). Records of
// the legacy scheme (which has no signing time) are never pruned.
func (s *Store) Prune(ctx context.Context) (pruned int64, err error) {
	if s.MaxAge <= 0 {
		return 0, nil
	}
	before := s.now().Add(-s.MaxAge).Truncate(time.Millisecond) // as stored: records are cut to the millisecond too
	h, err := s.horizon(ctx)
	if err != nil || h.After(before.Add(-s.MaxAge/16)) {
		return 0, err
	}
	// One pruner at a time, so that the horizon never moves back.
	l, err := s.lease(ctx, Horizon+"/"+horizonID, "")
	if err != nil {
		return 0, err
	}
	defer s.release(ctx, l)
	if h, err = s.horizon(ctx); err != nil {
		return 0, err
	}
	if before.After(h) {
		_, err := s.db.Collection(Horizon).ReplaceOne(ctx, bson.D{{Key: "_id", Value: horizonID}},
			bson.D{{Key: "_id", Value: horizonID}, {Key: "before", Value: before}}, options.Replace().SetUpsert(true))
		if err != nil {
			return 0, err
		}
		h = before
	}
	res, err := s.db.Collection(AppliedIDs).DeleteMany(ctx, bson.D{{Key: fieldTS, Value: bson.D{{Key: "$lt", Value: h}}}})
	if err != nil {
		return 0, err
	}
	return res.DeletedCount, nil
}
